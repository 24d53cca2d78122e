import { setMaxListeners } from 'node:events';
import { LokiError } from '@loki-lite/shared';
import type { LogStore } from '../storage/log-store.js';
import { startUnlessAborted } from '../util/abort.js';
import { runShard, type ShardResult, type ShardTask } from './shard.js';
import { newQueryStats, type QueryStats, throwIfStopped } from './types.js';

/*
 * Where a query's shards run (worker threads or this thread) and how the querier waits for them: all at
 * once, the first failure stopping the rest.
 */

/** Runs a query's shards: on worker threads (pool/worker-pool.ts) or on this thread (InProcessShards). */
export interface ShardRunner {
  /** `stop` is aborted when the query ends early; the shard then rejects with its reason. */
  run(task: ShardTask, stop: { readonly signal: AbortSignal; readonly deadlineMs: number | undefined }): Promise<ShardResult>;
  close(): Promise<void>;
}

/** Shards on this thread: a query's shards run at once, taking turns at their chunk reads. */
export class InProcessShards implements ShardRunner {
  constructor(private readonly store: Pick<LogStore, 'getChunk'>) {}

  run(task: ShardTask, stop: { readonly signal: AbortSignal; readonly deadlineMs: number | undefined }): Promise<ShardResult> {
    const stats = newQueryStats(undefined, stop.signal);
    if (stop.deadlineMs !== undefined) stats.deadlineMs = stop.deadlineMs;
    return runShard(task, {
      // A read for a query that stops is given up at once, so a slow store cannot hold the query.
      getChunk: (tenant, ref) => startUnlessAborted(stop.signal, () => this.store.getChunk(tenant, ref)),
      checkStopped: () => throwIfStopped(stats),
    });
  }

  async close(): Promise<void> {}
}

/**
 * Runs a query's shards at once and adds what they read to the stats. The first that fails stops the
 * others (and so does the query's own signal), and its error is the query's.
 */
export async function runShards(runner: ShardRunner, tasks: readonly ShardTask[], stats: QueryStats): Promise<ShardResult[]> {
  throwIfStopped(stats);
  const stop = new AbortController();
  // Every shard and chunk read of the query listens to it: more than Node's default of 10 is expected.
  setMaxListeners(0, stop.signal);
  const parent = stats.signal;
  const onParentAbort = () => stop.abort(parent!.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  try {
    const results = await Promise.all(
      tasks.map((t) =>
        runner.run(t, { signal: stop.signal, deadlineMs: stats.deadlineMs }).catch((e: unknown) => {
          stop.abort(e);
          throw e;
        }),
      ),
    );
    for (const r of results) addProcessed(stats, r.processed);
    return results;
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
    if (!stop.signal.aborted) stop.abort(new LokiError('canceled', 'query_done', 'query finished'));
  }
}

/** Adds a shard's reads to the query's stats; a chunk the index lists but the store lacks becomes a warning. */
export function addProcessed(stats: QueryStats, processed: ShardResult['processed']): void {
  stats.totalLinesProcessed += processed.lines;
  stats.totalBytesProcessed += processed.bytes;
  stats.chunksDownloaded += processed.chunks;
  for (const key of processed.missingChunks) {
    const warning = `chunk ${key} is listed in the index but missing from the store; the answer leaves out its lines`;
    if (!stats.warnings.includes(warning)) stats.warnings.push(warning);
  }
}

/** A shard's result of the kind its task asked for. */
export function resultOf<K extends ShardResult['kind']>(result: ShardResult, kind: K): Extract<ShardResult, { kind: K }> {
  if (result.kind !== kind) throw new LokiError('internal', 'shard_result', `a ${kind} shard answered with ${result.kind}`);
  return result as Extract<ShardResult, { kind: K }>;
}
