import { describeObjectStoreConformance } from '../testing/conformance.js';
import { MemoryObjectStore } from './memory-store.js';

describeObjectStoreConformance('memory', () => new MemoryObjectStore());
