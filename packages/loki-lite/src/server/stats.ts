import type { QueryStats } from '../shard/types.js';

/** The `stats` block of a query answer, in Loki's shape (the summary figures are filled in). */
export function statsJson(stats: QueryStats, execSeconds: number, queueSeconds = 0) {
  const perSecond = (n: number) => (execSeconds > 0 ? Math.trunc(n / execSeconds) : 0);
  return {
    summary: {
      bytesProcessedPerSecond: perSecond(stats.totalBytesProcessed),
      linesProcessedPerSecond: perSecond(stats.totalLinesProcessed),
      totalBytesProcessed: stats.totalBytesProcessed,
      totalLinesProcessed: stats.totalLinesProcessed,
      execTime: execSeconds,
      queueTime: queueSeconds,
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
