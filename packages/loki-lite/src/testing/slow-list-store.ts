import { MemoryObjectStore } from '../storage/memory/memory-store.js';

/**
 * An object store whose listings are answered only when `release` is called, so a test can make a write
 * happen while a listing is under way: taken when asked for (the listing misses the write), or, with
 * `listOnRelease`, taken on release (it sees the write).
 */
export class SlowListStore extends MemoryObjectStore {
  release: () => void = () => {};

  constructor(private readonly listOnRelease = false) {
    super();
  }

  override async list(prefix: string): Promise<string[]> {
    const early = this.listOnRelease ? undefined : await super.list(prefix);
    await new Promise<void>((r) => (this.release = r));
    return early ?? super.list(prefix);
  }
}
