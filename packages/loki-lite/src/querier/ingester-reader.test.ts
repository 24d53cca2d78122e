import { EntryBatch, newLabelMatcher, parseLabels, printLabels } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ingester } from '../ingester/ingester.js';
import type { LogSelectorExpr, RangeAggregationExpr } from '../logql/syntax/ast.js';
import { parseQuery } from '../logql/syntax/parser.js';
import { ingesterFixture, stopIngesterFixtures } from '../testing/ingester-fixture.js';
import { type IngesterReader, matcherData } from './ingester-reader.js';
import { MetadataQuerier } from './metadata.js';
import { Querier } from './querier.js';
import { newQueryStats } from '../shard/types.js';

/*
 * The seam between querier and ingester carries data only, so that it can become a network call: what the
 * querier sends and what the ingester answers survive structuredClone, and a querier reading through clones
 * answers exactly as one reading the ingester in place.
 */

const T = 1_764_547_200_000_000_000n;

afterEach(stopIngesterFixtures);

/** An ingester holding {app="a"} with lines at T+1..T+3 and {app="b"} with one line at T+5. */
async function ingesterWithTwoStreams(): Promise<{ ingester: Ingester; store: ReturnType<typeof ingesterFixture>['store'] }> {
  const fixture = ingesterFixture('{wal: {enabled: false}}');
  const ingester = fixture.newIngester();
  await ingester.start();
  const stream = (labels: string, at: number[]) => {
    const parsed = parseLabels(labels);
    const entries = EntryBatch.fromEntries(at.map((i) => ({ timestamp: T + BigInt(i), line: `${labels} line ${i}`, structuredMetadata: [] })));
    return { labels: parsed, labelsString: printLabels(parsed), entries };
  };
  await ingester.push('t', [stream('{app="a", env="prod"}', [1, 2, 3]), stream('{app="b", env="dev"}', [5])]);
  return { ingester, store: fixture.store };
}

/** The ingester as a remote one would be: every argument and every answer copied by structuredClone. */
function throughClones(ingester: IngesterReader): IngesterReader {
  return {
    streamChunks: async (...args) => structuredClone(await ingester.streamChunks(...structuredClone(args))),
    streamStats: async (...args) => structuredClone(await ingester.streamStats(...structuredClone(args))),
  };
}

describe('the ingester as the querier reads it (IngesterReader)', () => {
  it('answers a stream with chunks in [from, through) for selections and with counts in [from, through] for metadata', async () => {
    const { ingester } = await ingesterWithTwoStreams();
    const all = matcherData([newLabelMatcher('app', '=~', '.+')]);
    const chunks = await ingester.streamChunks('t', all, T, T + 5n);
    expect(chunks.map((s) => s.labelsString)).toEqual(['{app="a", env="prod"}']);
    expect(chunks[0]!.chunks.map((c) => [c.minTs, c.maxTs])).toEqual([[T + 1n, T + 3n]]);
    const stats = await ingester.streamStats('t', all, T, T + 5n);
    expect(
      stats
        .map(({ labelsString, chunks, entries, bytes }) => ({ labelsString, chunks, entries, bytes }))
        .sort((a, b) => (a.labelsString < b.labelsString ? -1 : 1)),
    ).toEqual([
      { labelsString: '{app="a", env="prod"}', chunks: 1, entries: 3, bytes: 3 * '{app="a", env="prod"} line 1'.length },
      { labelsString: '{app="b", env="dev"}', chunks: 1, entries: 1, bytes: '{app="b", env="dev"} line 5'.length },
    ]);
    expect(await ingester.streamChunks('t', matcherData([newLabelMatcher('env', '=', 'dev')]), T, T + 6n)).toHaveLength(1);
    expect(await ingester.streamChunks('other', all, T, T + 6n)).toEqual([]);
  });

  it('carries plain data: a querier reading through structuredClone copies answers as one reading the ingester in place', async () => {
    const { ingester, store } = await ingesterWithTwoStreams();
    const answers = async (memory: IngesterReader) => {
      const querier = new Querier(memory, store);
      const metadata = new MetadataQuerier(memory, store);
      const selector = parseQuery('{env=~"prod|dev"}') as LogSelectorExpr;
      const counts = parseQuery('count_over_time({env=~".+"}[1m])') as RangeAggregationExpr;
      return {
        logs: await querier.selectLogs('t', { selector, from: T, through: T + 10n, direction: 'backward', limit: 10 }, newQueryStats()),
        samples: await querier.selectSamples('t', counts, T, T + 10n, newQueryStats()),
        names: await metadata.labelNames('t', T, T + 10n),
        series: await metadata.series('t', [], T, T + 10n),
        stats: await metadata.indexStats('t', selector.matchers, T, T + 10n),
        volume: await metadata.volume('t', selector.matchers, T, T + 10n, [], 'series'),
      };
    };
    const inPlace = await answers(ingester);
    expect(inPlace.logs.flatMap((s) => s.entries)).toHaveLength(4);
    expect(inPlace.stats).toMatchObject({ streams: 2, chunks: 2, entries: 4 });
    expect(await answers(throughClones(ingester))).toEqual(inPlace);
  });
});
