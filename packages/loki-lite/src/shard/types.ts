import { type Label, type Labels, LokiError } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';

/*
 * The querier's vocabulary, shared by the planner on the server's thread (querier.ts) and the shard
 * executor that may run on a worker thread (shard.ts).
 */

/** A log line of an answer; with categorize-labels it carries its non-stream labels apart. */
export interface ResultEntry extends Entry {
  readonly parsed?: readonly Label[];
}

export interface StreamResult {
  readonly labels: Labels;
  /** In the query's direction. */
  readonly entries: ResultEntry[];
}

/** Loki's answer when a query runs past limits_config.query_timeout. */
export const QUERY_TIMEOUT_MESSAGE =
  'Request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed.';

export interface QueryStats {
  /** Date.now() after which the read loop gives up (query_timeout); unset: no limit. */
  deadlineMs?: number;
  /**
   * Aborted when the query must stop (its client went away, or its time ran out while it waited or ran);
   * the read loop then throws the signal's reason.
   */
  signal?: AbortSignal;
  totalBytesProcessed: number;
  totalLinesProcessed: number;
  totalEntriesReturned: number;
  chunksDownloaded: number;
  /** Loki's `warnings` of the answer: what it had to leave out (a stored chunk gone from the store). */
  warnings: string[];
}

/**
 * Fresh counters for one query. `timeoutNs` (query_timeout) sets the deadline the read loop checks, counted
 * from now; `signal` lets whoever runs the query stop its read loop (see throwIfStopped).
 */
export function newQueryStats(timeoutNs?: bigint, signal?: AbortSignal): QueryStats {
  const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0, warnings: [] };
  if (timeoutNs !== undefined && timeoutNs > 0n) stats.deadlineMs = Date.now() + Number(timeoutNs / 1_000_000n);
  if (signal) stats.signal = signal;
  return stats;
}

export function queryTimeoutError(): LokiError {
  return new LokiError('timeout', 'query_timeout', QUERY_TIMEOUT_MESSAGE);
}

/** Throws when the query ran past its deadline or was aborted. */
export function throwIfStopped(stats: QueryStats): void {
  if (stats.signal?.aborted) throw stats.signal.reason;
  if (stats.deadlineMs !== undefined && Date.now() > stats.deadlineMs) throw queryTimeoutError();
}
