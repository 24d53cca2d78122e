import { describe, expect, it } from 'vitest';
import { parseQuery } from '../syntax/parser.js';
import type { SampleExpr } from '../syntax/ast.js';
import { prepare, type SampleSource, type StreamSamples } from './evaluate.js';
import { RangeFold } from './fold.js';

/*
 * The folded evaluation (samples added to their steps as they are read) must give exactly what the
 * sample-list evaluation gives, for every foldable function, with offsets, groupings and windows that
 * overlap several steps.
 */
const S = 1_000_000_000n;

function randomSeries(seed: number): StreamSamples[] {
  let x = seed;
  const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return ['a', 'b', 'c'].map((pod, i) => {
    const timestamps: bigint[] = [];
    let t = 0n;
    for (let n = 0; n < 300; n++) timestamps.push((t += BigInt(Math.floor(rand() * 20 * Number(S)))));
    return {
      labels: [
        { name: 'app', value: 'x' },
        { name: 'pod', value: pod },
        { name: 'zone', value: i < 2 ? 'z1' : 'z2' },
      ],
      timestamps,
      bytes: timestamps.map(() => Math.floor(rand() * 500)),
      values: timestamps.map(() => Math.round(rand() * 1000) / 10),
    };
  });
}

/** A source over fixed series, with (`visit`) or without streaming. */
function source(data: StreamSamples[], streaming: boolean): SampleSource {
  const inWindow = (s: StreamSamples, from: bigint, through: bigint) =>
    s.timestamps.map((_t, i) => i).filter((i) => s.timestamps[i]! > from && s.timestamps[i]! <= through);
  const streams = async (_sel: unknown, from: bigint, through: bigint) =>
    data.map((s) => {
      const idx = inWindow(s, from, through);
      return { labels: s.labels, timestamps: idx.map((i) => s.timestamps[i]!), bytes: idx.map((i) => s.bytes[i]!), values: idx.map((i) => s.values![i]!) };
    });
  if (!streaming) return { streams };
  return {
    streams,
    fold: async (fold) => {
      const { from, through } = fold.readRange();
      const sink = fold.sink();
      for (const s of data) {
        const id = sink.series(s.labels);
        for (const i of inWindow(s, from, through)) sink.sample(id, s.timestamps[i]!, s.bytes[i]!, s.values![i]!);
      }
    },
  };
}

async function matrix(query: string, src: SampleSource) {
  const expr = parseQuery(query) as SampleExpr;
  const start = 600n * S;
  const end = 5400n * S;
  const step = 60n * S;
  const ev = await prepare(expr, src, start, end, step);
  const out: Record<string, number[]> = {};
  for (let t = start; t <= end; t += step) {
    const v = ev.at(t);
    if (v.kind !== 'vector') continue;
    for (const s of v.samples) (out[`${s.key}@${t}`] ??= []).push(s.value);
  }
  return out;
}

const FOLD_QUERIES = [
  'count_over_time({app="x"}[5m])',
  'rate({app="x"}[2m] offset 3m)',
  'bytes_over_time({app="x"}[10m])',
  'bytes_rate({app="x"}[90s])',
  'sum_over_time({app="x"} | unwrap v [5m])',
  'rate({app="x"} | unwrap v [5m])',
  'avg_over_time({app="x"} | unwrap v [5m]) by (zone)',
  'min_over_time({app="x"} | unwrap v [7m])',
  'max_over_time({app="x"} | unwrap v [7m]) without (pod)',
  'first_over_time({app="x"} | unwrap v [3m]) by (zone)',
  'last_over_time({app="x"} | unwrap v [3m])',
  'stdvar_over_time({app="x"} | unwrap v [10m])',
  'stddev_over_time({app="x"} | unwrap v [10m]) by (zone)',
  'sum by (zone) (count_over_time({app="x"}[5m]))',
];

describe('folded range aggregations', () => {
  const data = randomSeries(7);
  it.each(FOLD_QUERIES)('%s gives the same matrix as the sample-list evaluation', async (query) => {
    const folded = await matrix(query, source(data, true));
    const listed = await matrix(query, source(data, false));
    expect(Object.keys(folded).sort()).toEqual(Object.keys(listed).sort());
    expect(Object.keys(folded).length).toBeGreaterThan(50);
    for (const [k, v] of Object.entries(listed)) {
      for (let i = 0; i < v.length; i++) expect(folded[k]![i]).toBeCloseTo(v[i]!, 9);
    }
  });
});

/** A source whose folds are made of folds of parts (each series alone, cut in three time ranges), merged. */
function shardedSource(data: StreamSamples[]): SampleSource {
  const whole = source(data, true);
  return {
    streams: whole.streams,
    fold: async (fold) => {
      const { from, through } = fold.readRange();
      const cuts = [from, from + (through - from) / 3n, from + (2n * (through - from)) / 3n, through];
      for (const s of data) {
        for (let c = 0; c < 3; c++) {
          const part = new RangeFold(fold.expr, fold.start, fold.end, fold.step, fold.grouping);
          const sink = part.sink();
          const id = sink.series(s.labels);
          s.timestamps.forEach((t, i) => {
            if (t > cuts[c]! && t <= cuts[c + 1]!) sink.sample(id, t, s.bytes[i]!, s.values![i]!);
          });
          // as a worker thread sends it: a structured clone of the figures
          fold.merge(structuredClone(part.state()));
        }
      }
    },
  };
}

describe('folds of parts of the lines, merged', () => {
  const data = randomSeries(11);
  it.each(FOLD_QUERIES)('%s gives the matrix of one fold over all lines', async (query) => {
    const merged = await matrix(query, shardedSource(data));
    const whole = await matrix(query, source(data, true));
    expect(Object.keys(merged).sort()).toEqual(Object.keys(whole).sort());
    for (const [k, v] of Object.entries(whole)) {
      for (let i = 0; i < v.length; i++) expect(merged[k]![i]).toBeCloseTo(v[i]!, 9);
    }
  });
});
