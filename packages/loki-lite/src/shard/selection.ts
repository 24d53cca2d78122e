import type { Label, LabelMatcherData } from '@loki-lite/shared';
import type { DeleteFilterData } from './deletes.js';
import { byStream } from './plan.js';
import { resultOf, runShards, type ShardRunner } from './runner.js';
import type { StreamSampleList } from './sample-lists.js';
import { type LogGroup, type LogsShard, mergeLogGroups, type ShardProcessed, type ShardStream, type StreamSamplesShard } from './shard.js';
import { newQueryStats } from './types.js';

/*
 * A selection run as shards: its streams cut by stream (plan.ts), run where a ShardRunner puts them, and
 * their answers merged. The querier runs one over the streams it reads from the store; an ingester runs
 * one over its memory when a querier asks (the pipeline pushed down, as Loki's ingesters run the query
 * they are sent). What crosses between them is defined here, below both: plain data, so the call can
 * become a network call.
 */

/** Where a process runs its shards, and into how many it cuts a selection. */
export interface ShardExecution {
  readonly runner: ShardRunner;
  readonly shardsPerQuery: number;
}

/** What a querier asks an ingester to select from its memory: which streams, and the query's shard spec. */
export interface MemorySelectionScope {
  readonly tenant: string;
  readonly matchers: readonly LabelMatcherData[];
  /** Entries with from <= timestamp < through are read. */
  readonly from: bigint;
  readonly through: bigint;
  /** A label every stream gets before the pipeline sees it: __tenant_id__ in a multi-tenant query. */
  readonly streamLabel?: Label;
  /** The tenant's delete requests over the range: their lines are hidden. */
  readonly deletes: readonly DeleteFilterData[];
  /** Loki's discover_log_levels for the tenant. */
  readonly discoverLogLevels: boolean;
}

export type MemoryLogsSelection = MemorySelectionScope & Pick<LogsShard, 'query' | 'direction' | 'limit' | 'categorize'>;
export type MemorySamplesSelection = MemorySelectionScope & Pick<StreamSamplesShard, 'query' | 'grouping'>;

/** A call's context, as a gRPC call's: its cancellation, and the time (Date.now() ms) past which it gives up. */
export interface CallContext {
  readonly signal?: AbortSignal;
  readonly deadlineMs?: number;
}

export interface MemoryLogs {
  /** Each group's nearest `limit` lines, `limit` over all (see mergeLogGroups). */
  readonly groups: LogGroup[];
  readonly processed: ShardProcessed;
}

export interface MemorySamples {
  /** In the streams' label order. */
  readonly streams: StreamSampleList[];
  readonly processed: ShardProcessed;
}

/** A log selection's groups over `streams`: shards by stream, their nearest lines merged, `limit` kept. */
export async function runLogSelection(
  exec: ShardExecution,
  spec: Omit<LogsShard, 'streams'>,
  streams: readonly ShardStream[],
  ctx: CallContext,
): Promise<MemoryLogs> {
  const tasks = byStream(streams, exec.shardsPerQuery).map((group): LogsShard => ({ ...spec, streams: group }));
  const { results, processed } = await runAll(exec.runner, tasks, ctx);
  return {
    groups: mergeLogGroups(
      results.flatMap((r) => resultOf(r, 'logs').groups),
      spec.direction,
      spec.limit,
    ),
    processed,
  };
}

/** A range aggregation's samples per stream over `streams` (cut by stream only: one list per stream). */
export async function runStreamSamples(
  exec: ShardExecution,
  spec: Omit<StreamSamplesShard, 'streams'>,
  streams: readonly ShardStream[],
  ctx: CallContext,
): Promise<MemorySamples> {
  const tasks = byStream(streams, exec.shardsPerQuery).map((group): StreamSamplesShard => ({ ...spec, streams: group }));
  const { results, processed } = await runAll(exec.runner, tasks, ctx);
  return { streams: results.flatMap((r) => resultOf(r, 'stream-samples').streams), processed };
}

async function runAll(runner: ShardRunner, tasks: readonly (LogsShard | StreamSamplesShard)[], ctx: CallContext) {
  const stats = newQueryStats(undefined, ctx.signal);
  if (ctx.deadlineMs !== undefined) stats.deadlineMs = ctx.deadlineMs;
  const results = await runShards(runner, tasks, stats);
  const processed: ShardProcessed = { lines: stats.totalLinesProcessed, bytes: stats.totalBytesProcessed, chunks: stats.chunksDownloaded, missingChunks: [] };
  return { results, processed };
}
