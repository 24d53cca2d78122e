import { type Labels, printLabels } from '@loki-lite/shared';
import type { Grouping, LogSelectorExpr, RangeAggregationExpr } from '../syntax/ast.js';
import { groupLabels } from './aggregate.js';
import type { Evaluator, SampleSink } from './evaluate.js';
import type { Sample } from './value.js';

/*
 * Range aggregations evaluated while the lines are read: every sample is added to the steps whose window
 * (t - offset - range, t - offset] holds it, into a few numbers per series and step. Memory is bounded by
 * series x steps, whatever the number of lines. The functions that need every value of a window
 * (quantile_over_time, rate_counter) and absent_over_time keep the sample-list path.
 */

type Visit = (selector: LogSelectorExpr, from: bigint, through: bigint, grouping: Grouping | undefined, sink: SampleSink) => Promise<void>;

const FOLDABLE = new Set([
  'count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time', 'avg_over_time', 'min_over_time', 'max_over_time',
  'first_over_time', 'last_over_time', 'stdvar_over_time', 'stddev_over_time',
]);

export function canFold(expr: RangeAggregationExpr): boolean {
  return FOLDABLE.has(expr.op);
}

/** Per series: per step the number of samples, and the op's running figures. */
interface Series {
  readonly labels: Labels;
  readonly key: string;
  readonly count: Float64Array;
  /** Sum, mean, min, max, first or last value, by op. */
  readonly a: Float64Array;
  /** stdvar's running sum of squared deviations. */
  readonly m2: Float64Array | undefined;
  /** first/last: the timestamp of the value held. */
  readonly t: BigInt64Array | undefined;
}

export async function foldRange(expr: RangeAggregationExpr, visit: Visit, start: bigint, end: bigint, step: bigint, grouping: Grouping | undefined): Promise<Evaluator> {
  const { op, range, offset } = expr;
  const steps = step > 0n ? Number((end - start) / step) + 1 : 1;
  const seconds = Number(range) / 1e9;
  const unwrapped = expr.selector.unwrap !== undefined;
  const series: Series[] = [];
  const byKey = new Map<string, number>();
  const ids: number[] = []; // the source's series number -> ours (groups merge several)
  const update = updater(op, unwrapped);

  await visit(expr.selector, start - offset - range, end - offset, grouping && !grouping.without ? grouping : undefined, {
    series(labels) {
      const own = grouping ? groupLabels(labels, grouping) : labels;
      const key = printLabels(own);
      let id = byKey.get(key);
      if (id === undefined) {
        byKey.set(key, (id = series.length));
        const withTime = op === 'first_over_time' || op === 'last_over_time';
        series.push({ labels: own, key, count: new Float64Array(steps), a: new Float64Array(steps), m2: op.startsWith('std') ? new Float64Array(steps) : undefined, t: withTime ? new BigInt64Array(steps) : undefined });
      }
      return ids.push(id) - 1;
    },
    sample(source, ts, bytes, value) {
      // Steps t = start + k*step with ts + offset <= t < ts + offset + range.
      const lo = ts + offset - start;
      const hi = lo + range - 1n;
      if (hi < 0n) return;
      let kFrom = 0;
      if (lo > 0n) {
        if (step === 0n) return;
        kFrom = Number((lo + step - 1n) / step);
      }
      const kTo = step === 0n ? 0 : Math.min(steps - 1, Number(hi / step));
      const s = series[ids[source]!]!;
      const x = op === 'bytes_over_time' || op === 'bytes_rate' ? bytes : value;
      for (let k = kFrom; k <= kTo; k++) update(s, k, x, ts);
    },
  });

  const valueAt = finisher(op, unwrapped, seconds);
  return {
    at(ts) {
      const k = step > 0n ? Number((ts - start) / step) : 0;
      const samples: Sample[] = [];
      for (const s of series) if (s.count[k]! > 0) samples.push({ labels: s.labels, key: s.key, value: valueAt(s, k) });
      return { kind: 'vector', samples };
    },
  };
}

/** Adds one sample to a step's figures. */
function updater(op: string, unwrapped: boolean): (s: Series, k: number, x: number, ts: bigint) => void {
  switch (op) {
    case 'count_over_time':
      return (s, k) => { s.count[k]!++; };
    case 'rate':
      return unwrapped ? sumUpdate : (s, k) => { s.count[k]!++; };
    case 'bytes_over_time':
    case 'bytes_rate':
    case 'sum_over_time':
      return sumUpdate;
    case 'avg_over_time':
      return (s, k, x) => {
        const n = ++s.count[k]!;
        s.a[k]! += (x - s.a[k]!) / n;
      };
    case 'min_over_time':
      return (s, k, x) => {
        if (s.count[k]!++ === 0 || x < s.a[k]! || Number.isNaN(s.a[k]!)) s.a[k] = x;
      };
    case 'max_over_time':
      return (s, k, x) => {
        if (s.count[k]!++ === 0 || x > s.a[k]! || Number.isNaN(s.a[k]!)) s.a[k] = x;
      };
    case 'first_over_time':
      return (s, k, x, ts) => {
        if (s.count[k]!++ === 0 || ts < s.t![k]!) {
          s.a[k] = x;
          s.t![k] = ts;
        }
      };
    case 'last_over_time':
      return (s, k, x, ts) => {
        if (s.count[k]!++ === 0 || ts >= s.t![k]!) {
          s.a[k] = x;
          s.t![k] = ts;
        }
      };
    default: // stdvar_over_time, stddev_over_time: Welford's running mean and squared deviations
      return (s, k, x) => {
        const n = ++s.count[k]!;
        const d = x - s.a[k]!;
        s.a[k]! += d / n;
        s.m2![k]! += d * (x - s.a[k]!);
      };
  }
}

const sumUpdate = (s: Series, k: number, x: number) => {
  s.count[k]!++;
  s.a[k]! += x;
};

/** A step's value from its figures. */
function finisher(op: string, unwrapped: boolean, seconds: number): (s: Series, k: number) => number {
  switch (op) {
    case 'count_over_time': return (s, k) => s.count[k]!;
    case 'rate': return unwrapped ? (s, k) => s.a[k]! / seconds : (s, k) => s.count[k]! / seconds;
    case 'bytes_rate': return (s, k) => s.a[k]! / seconds;
    case 'stdvar_over_time': return (s, k) => s.m2![k]! / s.count[k]!;
    case 'stddev_over_time': return (s, k) => Math.sqrt(s.m2![k]! / s.count[k]!);
    default: return (s, k) => s.a[k]!;
  }
}
