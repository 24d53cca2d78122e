import type { RangeOp } from '../syntax/ast.js';

/**
 * A range function over the unwrapped values of one series in a window: values[from, through) with their
 * timestamps; `at` is the window's end. Definitions as Prometheus' *_over_time functions, which Loki's
 * follow.
 */
export type RangeFunction = (values: readonly number[], timestamps: readonly bigint[], from: number, through: number, at: bigint) => number;

export function rangeFunction(op: RangeOp, param: number | undefined, rangeNs: bigint): RangeFunction {
  const seconds = Number(rangeNs) / 1e9;
  switch (op) {
    case 'sum_over_time':
      return (v, _t, a, b) => sum(v, a, b);
    case 'rate':
      return (v, _t, a, b) => sum(v, a, b) / seconds;
    case 'avg_over_time':
      return (v, _t, a, b) => mean(v, a, b);
    case 'min_over_time':
      return (v, _t, a, b) => extreme(v, a, b, (x, y) => x < y);
    case 'max_over_time':
      return (v, _t, a, b) => extreme(v, a, b, (x, y) => x > y);
    case 'stdvar_over_time':
      return (v, _t, a, b) => variance(v, a, b);
    case 'stddev_over_time':
      return (v, _t, a, b) => Math.sqrt(variance(v, a, b));
    case 'quantile_over_time':
      return (v, _t, a, b) => quantile(param ?? NaN, v.slice(a, b));
    case 'first_over_time':
      return (v, _t, a) => v[a]!;
    case 'last_over_time':
      return (v, _t, _a, b) => v[b - 1]!;
    case 'rate_counter':
      return (v, t, a, b) => counterRate(v, t, a, b, rangeNs);
    default:
      throw new Error(`${op} takes no unwrapped values`);
  }
}

function sum(v: readonly number[], a: number, b: number): number {
  let s = 0;
  for (let i = a; i < b; i++) s += v[i]!;
  return s;
}

/** Prometheus' avg_over_time: a running mean, which avoids overflow on large values. */
function mean(v: readonly number[], a: number, b: number): number {
  let m = 0;
  let n = 0;
  for (let i = a; i < b; i++) {
    n++;
    m += (v[i]! - m) / n;
  }
  return m;
}

function extreme(v: readonly number[], a: number, b: number, better: (x: number, y: number) => boolean): number {
  let m = v[a]!;
  for (let i = a + 1; i < b; i++) if (better(v[i]!, m) || Number.isNaN(m)) m = v[i]!;
  return m;
}

/** Population variance (Welford), as Prometheus' stdvar_over_time. */
function variance(v: readonly number[], a: number, b: number): number {
  let n = 0;
  let m = 0;
  let m2 = 0;
  for (let i = a; i < b; i++) {
    n++;
    const d = v[i]! - m;
    m += d / n;
    m2 += d * (v[i]! - m);
  }
  return m2 / n;
}

/** Prometheus' quantile: linear interpolation between the closest ranks; φ outside [0, 1] gives ±Inf. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((x, y) => x - y);
  const rank = q * (values.length - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(values.length - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

/**
 * Loki's rate_counter (pkg/logql/range_vector.go extrapolatedRate): Prometheus' extrapolated counter rate
 * (a reset adds the value before it) as Loki computes it, which differs from Prometheus' in two ways users
 * see. The window is taken to end at the last sample, so nothing is extrapolated past it. And Loki's
 * sample times are nanoseconds where the formula expects milliseconds: the distance to the window's start
 * comes out as the range in seconds while the sampled interval comes out in microseconds, so the
 * extrapolation adds almost nothing and the answer is close to the increase over the range. Fewer than two
 * samples give 0, not nothing.
 */
function counterRate(v: readonly number[], t: readonly bigint[], a: number, b: number, rangeNs: bigint): number {
  if (b - a < 2) return 0;
  let delta = v[b - 1]! - v[a]!;
  let previous = 0;
  for (let i = a; i < b; i++) {
    if (v[i]! < previous) delta += previous;
    previous = v[i]!;
  }
  let durationToStart = Number(rangeNs / 1_000_000n) / 1000;
  const durationToEnd = 0;
  const sampled = Number(t[b - 1]! - t[a]!) / 1000;
  const averageInterval = sampled / (b - a - 1);
  if (delta > 0 && v[a]! >= 0) {
    const durationToZero = sampled * (v[a]! / delta);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageInterval * 1.1;
  let extrapolateTo = sampled;
  extrapolateTo += durationToStart < threshold ? durationToStart : averageInterval / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageInterval / 2;
  return (delta * (extrapolateTo / sampled)) / (Number(rangeNs) / 1e9);
}
