import { type ErrorKind, LokiError } from '@loki-lite/shared';
import type { ChunkRef } from '../../index/types.js';
import type { ShardResult, ShardTask } from '../shard.js';

/*
 * The messages between the query pool (server thread) and its worker threads. Everything is plain data
 * that survives a structured clone; memory snapshots arrive in shared memory, stored chunks and fold
 * figures are transferred.
 */

/** An error as it crosses threads: a LokiError keeps its kind (and so its HTTP status) and code. */
export interface WireError {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly message: string;
}

/** Pool → worker. */
export type FromPool =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly task: ShardTask;
      /** Set to non-zero by the pool when the query stops; the shard checks it every few thousand lines. */
      readonly stop: Int32Array;
      readonly deadlineMs: number | undefined;
    }
  | { readonly type: 'chunk'; readonly read: number; readonly bytes?: Uint8Array; readonly error?: WireError };

/** Worker → pool. */
export type ToPool =
  | { readonly type: 'chunk'; readonly read: number; readonly tenant: string; readonly ref: ChunkRef }
  | { readonly type: 'done'; readonly id: number; readonly result: ShardResult }
  | { readonly type: 'failed'; readonly id: number; readonly error: WireError };

export function wireError(e: unknown): WireError {
  if (e instanceof LokiError) return { kind: e.kind, code: e.code, message: e.message };
  return { kind: 'internal', code: 'query_worker', message: e instanceof Error ? e.message : String(e) };
}

export function fromWire(e: WireError): LokiError {
  return new LokiError(e.kind, e.code, e.message);
}
