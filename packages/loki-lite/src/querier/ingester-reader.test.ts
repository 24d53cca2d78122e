import { EntryBatch, newLabelMatcher, parseLabels, printLabels } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ingester } from '../ingester/ingester.js';
import type { LogSelectorExpr, RangeAggregationExpr, VectorAggregationExpr } from '../logql/syntax/ast.js';
import { parseQuery } from '../logql/syntax/parser.js';
import { toWire } from '../logql/syntax/wire.js';
import { lineHash } from '../shard/sample-lists.js';
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

/**
 * The ingester as a remote one would be: every selection and every answer copied by structuredClone (the
 * call's context, its cancellation and deadline, travels beside them as a gRPC call's does).
 */
function throughClones(ingester: IngesterReader): IngesterReader {
  return {
    selectLogs: async (selection, ctx) => structuredClone(await ingester.selectLogs(structuredClone(selection), ctx)),
    selectSamples: async (selection, ctx) => structuredClone(await ingester.selectSamples(structuredClone(selection), ctx)),
    streamStats: async (...args) => structuredClone(await ingester.streamStats(...structuredClone(args))),
  };
}

/** A selection's scope: tenant t, no deletes, no level discovery. */
const scope = (matchers: Parameters<typeof matcherData>[0], from: bigint, through: bigint) =>
  ({ tenant: 't', matchers: matcherData(matchers), from, through, deletes: [], discoverLogLevels: false }) as const;

describe('the ingester as the querier reads it (IngesterReader)', () => {
  it('runs the pipeline itself: lines in [from, through) that pass it, samples per stream with their series, counts in [from, through]', async () => {
    const { ingester } = await ingesterWithTwoStreams();
    const all = [newLabelMatcher('app', '=~', '.+')];
    const selector = parseQuery('{app=~".+"} |= "line" | label_format app="x{{.app}}"') as LogSelectorExpr;
    const logs = await ingester.selectLogs({ ...scope(all, T, T + 5n), query: toWire(selector), direction: 'forward', limit: 2, categorize: false }, {});
    expect(logs.groups.map((g) => [printLabels(g.labels), g.entries.map((e) => e.timestamp - T)])).toEqual([['{app="xa", env="prod"}', [1n, 2n]]]);
    expect(logs.processed.lines).toBeGreaterThanOrEqual(2);

    const counts = parseQuery('sum by (env) (count_over_time({app=~".+"} |= "line 3" [1m]))') as VectorAggregationExpr;
    const range = counts.inner as RangeAggregationExpr;
    const samples = await ingester.selectSamples({ ...scope(all, T, T + 6n), query: toWire(range), grouping: counts.grouping }, {});
    expect(samples.streams.map((s) => ({ key: s.key, series: s.series.map(printLabels), ts: [...s.timestamps].map((t) => t - T) }))).toEqual([
      { key: '{app="a", env="prod"}', series: ['{env="prod"}'], ts: [3n] },
    ]);
    expect([...samples.streams[0]!.hashes]).toEqual([lineHash('{app="a", env="prod"} line 3')]);

    const stats = await ingester.streamStats('t', matcherData(all), T, T + 5n);
    expect(
      stats
        .map(({ labelsString, chunks, entries, bytes }) => ({ labelsString, chunks, entries, bytes }))
        .sort((a, b) => (a.labelsString < b.labelsString ? -1 : 1)),
    ).toEqual([
      { labelsString: '{app="a", env="prod"}', chunks: 1, entries: 3, bytes: 3 * '{app="a", env="prod"} line 1'.length },
      { labelsString: '{app="b", env="dev"}', chunks: 1, entries: 1, bytes: '{app="b", env="dev"} line 5'.length },
    ]);
    const other = { ...scope(all, T, T + 6n), tenant: 'other', query: toWire(selector), direction: 'forward', limit: 10, categorize: false } as const;
    expect((await ingester.selectLogs(other, {})).groups).toEqual([]);
  });

  it('hides the lines of the delete requests it is sent, and labels streams with the label it is given', async () => {
    const { ingester } = await ingesterWithTwoStreams();
    const selector = parseQuery('{app=~".+"}') as LogSelectorExpr;
    const selection = {
      ...scope([newLabelMatcher('app', '=~', '.+')], T, T + 10n),
      deletes: [{ query: '{app="a"} |= "line 2"', start: T, end: T + 10n }],
      streamLabel: { name: '__tenant_id__', value: 't' },
      query: toWire(selector),
      direction: 'forward',
      limit: 10,
      categorize: false,
    } as const;
    const { groups } = await ingester.selectLogs(selection, {});
    expect(groups.map((g) => [printLabels(g.labels), g.entries.map((e) => e.timestamp - T)])).toEqual([
      ['{__tenant_id__="t", app="a", env="prod"}', [1n, 3n]],
      ['{__tenant_id__="t", app="b", env="dev"}', [5n]],
    ]);
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
