import { MemoryObjectStore } from '../storage/memory/memory-store.js';

/**
 * An object store whose chunk reads wait while the gate is shut, so a test can hold a query in the middle
 * of its read loop (at a real await, as a slow object store would) and see what it does next.
 */
export class GatedChunkStore extends MemoryObjectStore {
  /** Chunk reads waiting at the gate now. */
  waiting = 0;
  /** Chunk reads asked for (waiting or not). */
  chunkRequests = 0;
  private gate: Promise<void> | undefined;
  private openGate: () => void = () => {};

  shut(): void {
    if (!this.gate) this.gate = new Promise<void>((r) => (this.openGate = r));
  }

  open(): void {
    this.openGate();
    this.gate = undefined;
  }

  override async get(key: string): Promise<Buffer> {
    if (!key.startsWith('chunks/')) return super.get(key);
    this.chunkRequests++;
    while (this.gate) {
      this.waiting++;
      try {
        await this.gate;
      } finally {
        this.waiting--;
      }
    }
    return super.get(key);
  }
}
