import { describe, expect, it } from 'vitest';
import { parseQuery } from '../syntax/parser.js';
import type { SampleExpr } from '../syntax/ast.js';
import { evaluateAt } from './evaluate.js';
import type { InstantValue } from './value.js';

const noLogs = { streams: async () => [] };
const run = async (q: string): Promise<InstantValue> => evaluateAt(parseQuery(q) as SampleExpr, noLogs, 0n);
const scalar = async (q: string) => {
  const v = await run(q);
  if (v.kind !== 'scalar') throw new Error(`${q} is not a scalar`);
  return v.value;
};
const vector = async (q: string) => {
  const v = await run(q);
  if (v.kind !== 'vector') throw new Error(`${q} is not a vector`);
  return v.samples.map((s) => s.value);
};

describe('sample expressions', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 10 % 7', 2], // ^ binds tighter than %
    ['2 ^ 3 ^ 2', 512], // ^ is right-associative
    ['10 - 4 - 3', 3], // the others are left-associative
    ['-2 ^ 2', 4], // LogQL's grammar makes the sign part of the literal (Prometheus would say -4)
    ['7 % -3', 1], // Go's math.Mod keeps the dividend's sign
    ['-7 % 3', -1],
    ['1 / 0', Infinity],
    ['5 > bool 3', 1],
    ['5 == bool 3', 0],
    ['0x10 + 1e1', 26],
  ])('%s = %s', async (q, want) => {
    expect(await scalar(q)).toBe(want);
  });

  it.each([
    ['vector(1) + vector(1)', [2]],
    ['vector(5) > bool vector(3)', [1]],
    ['vector(5) > vector(3)', [5]], // comparison without bool filters and keeps the left value
    ['vector(1) > vector(3)', []],
    ['vector(2) * 3', [6]],
    ['3 - vector(2)', [1]],
    ['vector(2) < 1', []],
    ['vector(1) and vector(2)', [1]],
    ['vector(1) unless vector(2)', []],
    ['vector(1) or vector(2)', [1]],
    ['vector(-3)', [-3]],
  ])('%s', async (q, want) => {
    expect(await vector(q)).toEqual(want);
  });

  it.each([
    ['1 > 2', 'comparisons between scalars must use BOOL modifier'],
    ['1 and 2', 'set operator "and" not allowed in binary scalar expression'],
    ['vector(1) + bool 1', 'bool modifier can only be used on comparison operators'],
  ])('%s is refused', async (q, message) => {
    await expect(run(q)).rejects.toThrow(message);
  });
});

describe('range and vector aggregations', () => {
  const S = 1_000_000_000n;
  // Two streams; lines at 10s, 20s, 30s (app=a, 100 bytes each) and 30s (app=b, 10 bytes).
  const source = {
    streams: async (_sel: unknown, from: bigint, through: bigint) =>
      [
        {
          labels: [
            { name: 'app', value: 'a' },
            { name: 'pod', value: 'p1' },
          ],
          timestamps: [10n * S, 20n * S, 30n * S],
          bytes: [100, 100, 100],
        },
        {
          labels: [
            { name: 'app', value: 'b' },
            { name: 'pod', value: 'p2' },
          ],
          timestamps: [30n * S],
          bytes: [10],
        },
      ].map((s) => {
        const keep = s.timestamps.map((t, i) => [t, s.bytes[i]!] as const).filter(([t]) => t > from && t <= through);
        return { labels: s.labels, timestamps: keep.map(([t]) => t), bytes: keep.map(([, b]) => b) };
      }),
  };
  const at = async (q: string, seconds: bigint) => {
    const v = await evaluateAt(parseQuery(q) as SampleExpr, source, seconds * S);
    if (v.kind !== 'vector') throw new Error('expected a vector');
    return Object.fromEntries(v.samples.map((s) => [s.labels.map((l) => `${l.name}=${l.value}`).join(','), s.value]));
  };

  it('windows are (t - range, t]: a line exactly at t - range is out, one at t is in', async () => {
    expect(await at('count_over_time({app=~".+"}[10s])', 30n)).toEqual({ 'app=a,pod=p1': 1, 'app=b,pod=p2': 1 });
    expect(await at('count_over_time({app=~".+"}[20s])', 30n)).toEqual({ 'app=a,pod=p1': 2, 'app=b,pod=p2': 1 });
    expect(await at('count_over_time({app=~".+"}[5s])', 25n)).toEqual({}); // an empty window gives no sample
  });

  it('offset shifts the window into the past', async () => {
    expect(await at('count_over_time({app=~".+"}[15s] offset 10s)', 30n)).toEqual({ 'app=a,pod=p1': 2 });
  });

  it('rate, bytes_over_time and bytes_rate', async () => {
    expect(await at('rate({app=~".+"}[20s])', 30n)).toEqual({ 'app=a,pod=p1': 0.1, 'app=b,pod=p2': 0.05 });
    expect(await at('bytes_over_time({app=~".+"}[30s])', 30n)).toEqual({ 'app=a,pod=p1': 300, 'app=b,pod=p2': 10 });
    expect(await at('bytes_rate({app=~".+"}[10s])', 30n)).toEqual({ 'app=a,pod=p1': 10, 'app=b,pod=p2': 1 });
  });

  it.each([
    ['sum(count_over_time({app=~".+"}[30s]))', { '': 4 }],
    ['sum by (app) (count_over_time({app=~".+"}[30s]))', { 'app=a': 3, 'app=b': 1 }],
    ['sum(count_over_time({app=~".+"}[30s])) by (app)', { 'app=a': 3, 'app=b': 1 }],
    ['sum without (pod) (count_over_time({app=~".+"}[30s]))', { 'app=a': 3, 'app=b': 1 }],
    ['avg(count_over_time({app=~".+"}[30s]))', { '': 2 }],
    ['max(count_over_time({app=~".+"}[30s]))', { '': 3 }],
    ['count(count_over_time({app=~".+"}[30s]))', { '': 2 }],
    ['stddev(count_over_time({app=~".+"}[30s]))', { '': 1 }],
    ['stdvar(count_over_time({app=~".+"}[30s]))', { '': 1 }],
    ['topk(1, count_over_time({app=~".+"}[30s]))', { 'app=a,pod=p1': 3 }],
    ['bottomk(1, count_over_time({app=~".+"}[30s]))', { 'app=b,pod=p2': 1 }],
    ['sum(count_over_time({app=~".+"}[30s])) * 2', { '': 8 }],
    ['count_over_time({app=~".+"}[30s]) > 2', { 'app=a,pod=p1': 3 }],
  ])('%s', async (q, want) => {
    expect(await at(q, 30n)).toEqual(want);
  });
});

describe('label_replace, absent_over_time and vector matching', () => {
  const S = 1_000_000_000n;
  const source = {
    streams: async () => [
      {
        labels: [
          { name: 'app', value: 'api' },
          { name: 'pod', value: 'api-1' },
        ],
        timestamps: [10n * S, 20n * S],
        bytes: [1, 1],
      },
      {
        labels: [
          { name: 'app', value: 'api' },
          { name: 'pod', value: 'api-2' },
        ],
        timestamps: [15n * S],
        bytes: [1],
      },
      {
        labels: [
          { name: 'app', value: 'db' },
          { name: 'pod', value: 'db-1' },
        ],
        timestamps: [12n * S],
        bytes: [1],
      },
    ],
  };
  const at = async (q: string) => {
    const v = await evaluateAt(parseQuery(q) as SampleExpr, source, 30n * S);
    if (v.kind !== 'vector') throw new Error('expected a vector');
    return Object.fromEntries(v.samples.map((s) => [s.labels.map((l) => `${l.name}=${l.value}`).join(','), s.value]));
  };
  const C = 'count_over_time({app=~".+"}[30s])';

  it.each([
    [
      `label_replace(${C}, "short", "$1", "pod", "(.*)-\\\\d")`,
      { 'app=api,pod=api-1,short=api': 2, 'app=api,pod=api-2,short=api': 1, 'app=db,pod=db-1,short=db': 1 },
    ],
    [`label_replace(${C}, "pod", "", "pod", "db-.*")`, { 'app=api,pod=api-1': 2, 'app=api,pod=api-2': 1, 'app=db': 1 }], // an empty result removes the label
    [`label_replace(${C}, "x", "\${1}y$$", "app", "(d)b")`, { 'app=api,pod=api-1': 2, 'app=api,pod=api-2': 1, 'app=db,pod=db-1,x=dy$': 1 }],
  ])('%s', async (q, want) => {
    expect(await at(q)).toEqual(want);
  });

  it('absent_over_time is 1, labelled by the equality matchers, only when nothing matched', async () => {
    const empty = { streams: async () => [] };
    const v = await evaluateAt(parseQuery('absent_over_time({app="nope", env=~"x|y"}[5m])') as SampleExpr, empty, 30n * S);
    expect(v).toEqual({ kind: 'vector', samples: [{ labels: [{ name: 'app', value: 'nope' }], key: '{app="nope"}', value: 1 }] });
    expect(await at('absent_over_time({app="api"}[30s])')).toEqual({});
  });

  it.each([
    ['sum by (app) (' + C + ') + on (app) sum by (app) (' + C + ')', { 'app=api': 6, 'app=db': 2 }],
    [C + ' / ignoring (pod) group_left sum by (app) (' + C + ')', { 'app=api,pod=api-1': 2 / 3, 'app=api,pod=api-2': 1 / 3, 'app=db,pod=db-1': 1 }],
    ['sum by (app) (' + C + ') * on (app) group_right ' + C, { 'app=api,pod=api-1': 6, 'app=api,pod=api-2': 3, 'app=db,pod=db-1': 1 }],
    [C + ' and on (app) (sum by (app) (' + C + ') > 2)', { 'app=api,pod=api-1': 2, 'app=api,pod=api-2': 1 }],
  ])('%s', async (q, want) => {
    expect(await at(q)).toEqual(want);
  });

  it('refuses many-to-many matching like Prometheus', async () => {
    await expect(at(C + ' + on (app) ' + C)).rejects.toThrow('many-to-many matching not allowed');
  });
});

describe('unwrapped range aggregations', () => {
  // One series per pod; values at t = 1s..5s.
  const S = 1_000_000_000n;
  const series = (pod: string, values: number[]) => ({
    labels: [
      { name: 'pod', value: pod },
      { name: 'app', value: 'x' },
    ],
    timestamps: values.map((_, i) => BigInt(i + 1) * S),
    bytes: values.map(() => 10),
    values,
  });
  const source = { streams: async () => [series('a', [1, 2, 3, 4, 10]), series('b', [5, 5, 5, 5, 5])] };
  const at = async (q: string) => {
    const v = await evaluateAt(parseQuery(q) as SampleExpr, source, 5n * S);
    if (v.kind !== 'vector') throw new Error('not a vector');
    return Object.fromEntries(v.samples.map((s) => [s.labels.map((l) => l.value).join(','), s.value]));
  };
  const q = (fn: string, extra = '') => `${fn}({app="x"} | unwrap v [10s])${extra}`;

  it.each([
    ['sum_over_time', { 'a,x': 20, 'b,x': 25 }],
    ['avg_over_time', { 'a,x': 4, 'b,x': 5 }],
    ['min_over_time', { 'a,x': 1, 'b,x': 5 }],
    ['max_over_time', { 'a,x': 10, 'b,x': 5 }],
    ['first_over_time', { 'a,x': 1, 'b,x': 5 }],
    ['last_over_time', { 'a,x': 10, 'b,x': 5 }],
    ['stdvar_over_time', { 'a,x': 10, 'b,x': 0 }],
    ['rate', { 'a,x': 2, 'b,x': 2.5 }],
  ])('%s', async (fn, want) => {
    expect(await at(q(fn))).toEqual(want);
  });

  it('quantile_over_time interpolates between ranks; φ above 1 gives +Inf', async () => {
    expect(await at('quantile_over_time(0.5, {app="x"} | unwrap v [10s])')).toEqual({ 'a,x': 3, 'b,x': 5 });
    expect((await at('quantile_over_time(0.9, {app="x"} | unwrap v [10s])'))['a,x']).toBeCloseTo(7.6, 9);
    expect(await at('quantile_over_time(1.5, {app="x"} | unwrap v [10s])')).toEqual({ 'a,x': Infinity, 'b,x': Infinity });
  });

  it('by/without on the range aggregation merges the series of a group before the function', async () => {
    expect(await at(q('max_over_time', ' by (app)'))).toEqual({ x: 10 });
    expect(await at(q('avg_over_time', ' without (pod)'))).toEqual({ x: 4.5 });
  });

  it("rate_counter counts a reset and extrapolates as Loki's arithmetic does: to about the increase over the range", async () => {
    const reset = { streams: async () => [series('c', [10, 20, 5, 15, 25])] };
    const v = await evaluateAt(parseQuery('rate_counter({app="x"} | unwrap v [10s])') as SampleExpr, reset, 5n * S);
    // Increase 25 - 10 plus the 20 lost at the reset = 35. Loki's extrapolation adds the range in seconds (10)
    // to a sampled interval counted in microseconds (4e6): 35 * 4000010 / 4e6 over 10 s = 3.50000875.
    // (Prometheus' rate would give 3.9375.)
    expect(v.kind === 'vector' && v.samples[0]!.value).toBeCloseTo(3.50000875, 9);
  });

  it('rate_counter of a single sample is 0, so a sum over it stays a number', async () => {
    const one = { streams: async () => [series('c', [7]), series('d', [1, 3])] };
    const v = await evaluateAt(parseQuery('sum(rate_counter({app="x"} | unwrap v [10s]))') as SampleExpr, one, 5n * S);
    // d: increase 2, sampled 1e6 us, plus 10 -> 2 * 1000010 / 1e6 / 10 = 0.200002; c adds 0
    expect(v.kind === 'vector' && v.samples.map((s) => s.value)).toEqual([expect.closeTo(0.200002, 9)]);
  });
});
