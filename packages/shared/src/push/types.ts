import type { Label } from '../labels/labels.js';
import type { Nanos } from '../logql-time/timestamp.js';

/** One log line as pushed. `structuredMetadata` is the shared EMPTY array when there is none. */
export interface PushEntry {
  timestamp: Nanos;
  line: string;
  structuredMetadata: readonly Label[];
}

/** A stream as pushed: its label string exactly as the client sent it, not yet parsed or validated. */
export interface PushStream {
  labels: string;
  entries: PushEntry[];
}

export interface PushRequest {
  streams: PushStream[];
}

export const NO_METADATA: readonly Label[] = Object.freeze([]);
