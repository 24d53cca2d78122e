import type { QueryStats } from '../querier/querier.js';

/** The `stats` block of a query answer, in Loki's shape (the summary figures are filled in). */
export function statsJson(stats: QueryStats, execSeconds: number) {
  const perSecond = (n: number) => (execSeconds > 0 ? Math.trunc(n / execSeconds) : 0);
  return {
    summary: {
      bytesProcessedPerSecond: perSecond(stats.totalBytesProcessed),
      linesProcessedPerSecond: perSecond(stats.totalLinesProcessed),
      totalBytesProcessed: stats.totalBytesProcessed,
      totalLinesProcessed: stats.totalLinesProcessed,
      execTime: execSeconds,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: stats.totalEntriesReturned,
      splits: 0,
      shards: 0,
      totalPostFilterLines: stats.totalEntriesReturned,
      totalStructuredMetadataBytesProcessed: 0,
    },
    querier: { store: { totalChunksRef: stats.chunksDownloaded, totalChunksDownloaded: stats.chunksDownloaded, chunksDownloadTime: 0 } },
    ingester: { totalReached: 1, totalChunksMatched: 0, totalBatches: 0, totalLinesSent: 0 },
  };
}

/** Fresh counters; `timeoutNs` (query_timeout) sets the deadline the read loop checks. */
export function newQueryStats(timeoutNs?: bigint): QueryStats {
  const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0 };
  if (timeoutNs !== undefined && timeoutNs > 0n) stats.deadlineMs = Date.now() + Number(timeoutNs / 1_000_000n);
  return stats;
}
