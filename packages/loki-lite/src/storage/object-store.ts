import { LokiError } from '@loki-lite/shared';

/**
 * The object store everything persistent goes through: chunks and index files. Objects are immutable once
 * written; keys are built only by keys.ts. Implementations: memory/ (tests), fs/ (the embedded default),
 * s3/ (S3 and S3-compatible stores). All pass testing/conformance.ts.
 */
export interface ObjectStore {
  /** Writes an object whole. When the promise resolves the object is durable and visible to get/list. */
  put(key: string, body: Uint8Array): Promise<void>;
  /**
   * Reads an object. Throws ObjectNotFoundError when there is none. The Buffer is the caller's: the store
   * keeps no reference to it, so a query may move its memory to a worker thread.
   */
  get(key: string): Promise<Buffer>;
  /** Every key that starts with `prefix`, in lexical order. */
  list(prefix: string): Promise<string[]>;
  /** Removes an object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** A short description for logs, e.g. `filesystem:/data/chunks`. */
  readonly description: string;
}

export class ObjectNotFoundError extends LokiError {
  constructor(key: string) {
    super('not_found', 'object_not_found', `object not found: ${key}`);
  }
}
