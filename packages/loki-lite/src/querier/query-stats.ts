import type { QueryStats } from './querier.js';

/**
 * Fresh counters for one query. `timeoutNs` (query_timeout) sets the deadline the read loop checks, counted
 * from now; `signal` lets whoever runs the query stop its read loop (see throwIfStopped in querier.ts).
 */
export function newQueryStats(timeoutNs?: bigint, signal?: AbortSignal): QueryStats {
  const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0 };
  if (timeoutNs !== undefined && timeoutNs > 0n) stats.deadlineMs = Date.now() + Number(timeoutNs / 1_000_000n);
  if (signal) stats.signal = signal;
  return stats;
}
