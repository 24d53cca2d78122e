import { describe, expect, it } from 'vitest';
import type { Entry } from '../chunk/entry.js';
import { parseQuery } from '../logql/syntax/parser.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import type { LogStore } from '../storage/log-store.js';
import { oneRun } from './merge.js';
import { type MemoryStream, mergeDedup, QUERY_TIMEOUT_MESSAGE, Querier, type QueryStats } from './querier.js';

const e = (ts: number, line: string): Entry => ({ timestamp: BigInt(ts), line, structuredMetadata: [] });
const lines = (entries: Entry[]) => entries.map((x) => `${x.timestamp}:${x.line}`);

describe('mergeDedup', () => {
  it('merges sorted lists and drops entries with the same timestamp and line, also within one list', () => {
    expect(lines(mergeDedup([[e(1, 'a'), e(1, 'a'), e(2, 'b')]]))).toEqual(['1:a', '2:b']);
    expect(lines(mergeDedup([[e(1, 'a'), e(3, 'c')], [e(1, 'a'), e(2, 'b'), e(3, 'c')]]))).toEqual(['1:a', '2:b', '3:c']);
  });

  it('keeps different lines that share a timestamp, in order', () => {
    expect(lines(mergeDedup([[e(1, 'a'), e(1, 'b'), e(1, 'a'), e(1, 'c')]]))).toEqual(['1:a', '1:b', '1:c']);
    expect(mergeDedup([[], []])).toEqual([]);
  });
});

describe('Querier limits', () => {
  /** A querier over one in-memory stream of `n` lines (no store). */
  function querierWith(n: number): Querier {
    const labels = [{ name: 'app', value: 'a' }];
    const entries = Array.from({ length: n }, (_, i) => e(i + 1, `line ${i}`));
    const stream: MemoryStream = {
      labels,
      labelsString: '{app="a"}',
      entriesInRange: () => entries,
      overlaps: () => true,
      chunkStats: () => ({ chunks: 1, entries: n, bytes: 0 }),
      chunkSources: () => [{ minTs: 1n, maxTs: BigInt(n), remote: false, load: async () => oneRun(entries) }],
    };
    const store = { selectSeries: async () => [], getChunk: async () => Buffer.alloc(0) } as unknown as LogStore;
    return new Querier({ streamsMatching: () => [stream] }, store);
  }
  const selector = parseQuery('{app="a"}') as LogSelectorExpr;

  it("gives up with Loki's timeout error once the deadline has passed", async () => {
    const stats: QueryStats = { totalBytesProcessed: 0, totalLinesProcessed: 0, totalEntriesReturned: 0, chunksDownloaded: 0, deadlineMs: 0 };
    await expect(querierWith(10_000).selectSamples('t', selector, 0n, 20_000n, stats)).rejects.toMatchObject({ kind: 'timeout', message: QUERY_TIMEOUT_MESSAGE });
    const relaxed = { ...stats, totalLinesProcessed: 0, deadlineMs: undefined };
    expect(await querierWith(10_000).selectSamples('t', selector, 0n, 20_000n, relaxed)).toHaveLength(1);
  });
});
