import { ObjectNotFoundError, type ObjectStore } from '../object-store.js';

/** An in-process object store for unit tests. Copies on the way in and out, like a real store would. */
export class MemoryObjectStore implements ObjectStore {
  readonly description = 'inmemory';
  private readonly objects = new Map<string, Buffer>();

  async put(key: string, body: Uint8Array): Promise<void> {
    this.objects.set(key, Buffer.from(body));
  }

  async get(key: string): Promise<Buffer> {
    const body = this.objects.get(key);
    if (!body) throw new ObjectNotFoundError(key);
    return Buffer.from(body);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
