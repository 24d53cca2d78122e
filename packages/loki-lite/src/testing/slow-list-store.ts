import { MemoryObjectStore } from '../storage/memory/memory-store.js';

/**
 * An object store whose listings are taken when asked for but answered only when `release` is called, so a
 * test can make a write happen between the two.
 */
export class SlowListStore extends MemoryObjectStore {
  release: () => void = () => {};

  override async list(prefix: string): Promise<string[]> {
    const keys = await super.list(prefix);
    await new Promise<void>((r) => (this.release = r));
    return keys;
  }
}
