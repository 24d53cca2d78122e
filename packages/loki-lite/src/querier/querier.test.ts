import { EntryBatch, parseLabels, printLabels } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../chunk/entry.js';
import { parseConfig } from '../config/load.js';
import { Ingester } from '../ingester/ingester.js';
import { Metrics } from '../metrics.js';
import { parseQuery } from '../logql/syntax/parser.js';
import type { LogSelectorExpr, RangeAggregationExpr } from '../logql/syntax/ast.js';
import { LogStore } from '../storage/log-store.js';
import { Querier } from './querier.js';
import { QUERY_TIMEOUT_MESSAGE, type QueryStats } from '../shard/types.js';
import { oneStreamIngester } from '../testing/one-stream-ingester.js';
import { SlowListStore } from '../testing/slow-list-store.js';
import { Limits } from '../limits/limits.js';

const e = (ts: number, line: string): Entry => ({ timestamp: BigInt(ts), line, structuredMetadata: [] });

describe('Querier limits', () => {
  /** A querier over one in-memory stream of `n` lines (no store). */
  function querierWith(n: number): Querier {
    return querierOver(Array.from({ length: n }, (_, i) => e(i + 1, `line ${i}`)));
  }
  function querierOver(entries: Entry[]): Querier {
    const store = { selectSeries: async () => [], getChunk: async () => Buffer.alloc(0) } as unknown as LogStore;
    return new Querier(oneStreamIngester([{ name: 'app', value: 'a' }], entries), store);
  }
  const expr = parseQuery('count_over_time({app="a"}[1h])') as RangeAggregationExpr;

  it("gives up with Loki's timeout error once the deadline has passed", async () => {
    const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0, warnings: [], deadlineMs: 0 };
    await expect(querierWith(10_000).selectSamples('t', expr, 0n, 20_000n, stats)).rejects.toMatchObject({ kind: 'timeout', message: QUERY_TIMEOUT_MESSAGE });
    const relaxed = { ...stats, totalLinesProcessed: 0, deadlineMs: undefined };
    expect(await querierWith(10_000).selectSamples('t', expr, 0n, 20_000n, relaxed)).toHaveLength(1);
  });

  it("counts the lines read and their UTF-8 bytes (Loki's decompressed bytes), also those a line filter skips unparsed", async () => {
    const entries = ['ascii', 'größe', '日本語 ok', 'ünïcödé ok'].map((line, i) => e(i + 1, line));
    const bytes = entries.reduce((n, x) => n + Buffer.byteLength(x.line), 0);
    for (const query of ['count_over_time({app="a"}[1h])', 'count_over_time({app="a"} |= "ok" [1h])']) {
      const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0, warnings: [] };
      await querierOver(entries).selectSamples('t', parseQuery(query) as RangeAggregationExpr, 0n, 20_000n, stats);
      expect({ query, lines: stats.totalLinesProcessed, bytes: stats.totalBytesProcessed }).toEqual({ query, lines: 4, bytes });
    }
  });
});

describe('Querier and index cuts', () => {
  /**
   * A querier over an ingester holding {app="a"} with lines 1..3, whose store lists the index only after the
   * ingester answered and then flushed and indexed the chunk.
   */
  async function racingIndexCut(run: (querier: Querier, T: bigint) => Promise<unknown>): Promise<unknown> {
    const { config } = parseConfig(`
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: inmemory, schema: v13, index: {prefix: index_, period: 24h}}]}
ingester: {wal: {enabled: false}, index_cut_period: 1h}
limits_config: {reject_old_samples: false}
`);
    const objects = new SlowListStore(true);
    const store = new LogStore(objects, [{ from: 0n, prefix: 'index_' }]);
    const ingester = new Ingester({ config: config.ingester, limits: new Limits(config.limits_config), store, metrics: new Metrics() });
    await ingester.start();
    try {
      const T = 1_764_547_200_000_000_000n;
      const labels = parseLabels('{app="a"}');
      const entries = EntryBatch.fromEntries([1, 2, 3].map((i) => ({ timestamp: T + BigInt(i), line: `line ${i}`, structuredMetadata: [] })));
      await ingester.push('t', [{ labels, labelsString: printLabels(labels), entries }]);
      const racing = run(new Querier(ingester, store), T); // the ingester has answered; the index listing waits...
      await new Promise((r) => setImmediate(r));
      await ingester.flushAll(); // ...while the chunk is flushed and indexed: the store now has the lines too
      objects.release();
      return await racing;
    } finally {
      await ingester.stop();
    }
  }

  it('a metric query whose lines the ingester answered and the store then lists counts each line once', async () => {
    const expr = parseQuery('count_over_time({app="a"} |= "line" [1h])') as RangeAggregationExpr;
    const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0, warnings: [] };
    const series = (await racingIndexCut((querier, T) => querier.selectSamples('t', expr, T, T + 10n, stats))) as Array<{ timestamps: bigint[] }>;
    expect(series.map((s) => s.timestamps.length)).toEqual([3]);
    expect(stats.chunksDownloaded).toBe(1); // the stored copy was read, and its lines recognised
  });

  it('a query under way while an index cut moves its chunks from memory to the index still reads every line', async () => {
    const { config } = parseConfig(`
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: inmemory, schema: v13, index: {prefix: index_, period: 24h}}]}
ingester: {wal: {enabled: false}, index_cut_period: 1h}
limits_config: {reject_old_samples: false}
`);
    const objects = new SlowListStore();
    const store = new LogStore(objects, [{ from: 0n, prefix: 'index_' }]);
    const ingester = new Ingester({ config: config.ingester, limits: new Limits(config.limits_config), store, metrics: new Metrics() });
    await ingester.start();
    try {
      const T = 1_764_547_200_000_000_000n;
      const labels = parseLabels('{app="a"}');
      const entries = EntryBatch.fromEntries([1, 2, 3].map((i) => ({ timestamp: T + BigInt(i), line: `line ${i}`, structuredMetadata: [] })));
      await ingester.push('t', [{ labels, labelsString: printLabels(labels), entries }]);
      const querier = new Querier(ingester, store);
      const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0, warnings: [] };
      const query = () =>
        querier.selectLogs('t', { selector: parseQuery('{app="a"}') as LogSelectorExpr, from: T, through: T + 10n, direction: 'forward', limit: 100 }, stats);
      const racing = query(); // has found the stream in memory and waits for the index table's listing...
      await new Promise((r) => setImmediate(r));
      await ingester.flushAll(); // ...while the chunk is flushed, indexed and dropped from memory
      objects.release();
      expect((await racing).flatMap((s) => s.entries.map((e) => e.line))).toEqual(['line 1', 'line 2', 'line 3']);
    } finally {
      await ingester.stop();
    }
  });
});
