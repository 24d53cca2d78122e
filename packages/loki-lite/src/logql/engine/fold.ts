import { type Labels, printLabels } from '@loki-lite/shared';
import type { Grouping, RangeAggregationExpr } from '../syntax/ast.js';
import { groupLabels } from './aggregate.js';
import type { Evaluator, Sample, SampleSink } from './value.js';

/*
 * Range aggregations evaluated while the lines are read: every sample is added to the steps whose window
 * (t - offset - range, t - offset] holds it, into a few numbers per series and step. Memory is bounded by
 * series x steps, whatever the number of lines. The functions that need every value of a window
 * (quantile_over_time, rate_counter) and absent_over_time keep the sample-list path.
 */

const FOLDABLE = new Set([
  'count_over_time',
  'rate',
  'bytes_over_time',
  'bytes_rate',
  'sum_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'first_over_time',
  'last_over_time',
  'stdvar_over_time',
  'stddev_over_time',
]);

export function canFold(expr: RangeAggregationExpr): boolean {
  return FOLDABLE.has(expr.op);
}

/** Per series: per step the number of samples, and the op's running figures. */
export interface FoldSeries {
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

/**
 * A fold's figures as plain data: what a shard of a query (in a worker thread) sends back, to be merged
 * with the other shards' into the query's fold. The typed arrays can be transferred.
 */
export interface FoldState {
  readonly series: readonly FoldSeries[];
}

/**
 * One range aggregation folded over steps t = start + k*step <= end. Lines are read with
 * from < timestamp <= through (`readRange`) and added through `sink()`; folds of disjoint parts of the
 * lines (other streams, other time ranges) are combined with `merge`. Counts, sums of integers, min, max,
 * first and last merge exactly; sums of floats, avg and stdvar (Chan's parallel formulas) up to float
 * rounding, as Loki's own sharded sums.
 */
export class RangeFold {
  private readonly steps: number;
  private readonly series: FoldSeries[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly update: (s: FoldSeries, k: number, x: number, ts: bigint) => void;
  private readonly join: (into: FoldSeries, from: FoldSeries, k: number) => void;
  /** The grouping the reader may reduce lines to (a `by` grouping; `without` needs every label). */
  readonly readGrouping: Grouping | undefined;

  constructor(
    readonly expr: RangeAggregationExpr,
    readonly start: bigint,
    readonly end: bigint,
    readonly step: bigint,
    readonly grouping: Grouping | undefined,
  ) {
    this.steps = step > 0n ? Number((end - start) / step) + 1 : 1;
    this.update = updater(expr.op, expr.selector.unwrap !== undefined);
    this.join = joiner(expr.op);
    this.readGrouping = readGrouping(grouping);
  }

  /** Lines with from < timestamp <= through fall in some step's window (t - offset - range, t - offset]. */
  readRange(): { from: bigint; through: bigint } {
    const { offset, range } = this.expr;
    return { from: this.start - offset - range, through: this.end - offset };
  }

  /** Where a reader adds lines: one series number per label set it meets, then its samples. */
  sink(): SampleSink {
    const ids: number[] = []; // the reader's series number -> ours (groupings merge several)
    const { offset, range } = this.expr;
    const { start, step, steps } = this;
    const bytesOp = this.expr.op === 'bytes_over_time' || this.expr.op === 'bytes_rate';
    return {
      series: (labels) => ids.push(this.seriesFor(this.grouping ? groupLabels(labels, this.grouping) : labels)) - 1,
      sample: (source, ts, bytes, value) => {
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
        const s = this.series[ids[source]!]!;
        const x = bytesOp ? bytes : value;
        for (let k = kFrom; k <= kTo; k++) this.update(s, k, x, ts);
      },
    };
  }

  private seriesFor(labels: Labels, key = printLabels(labels)): number {
    let id = this.byKey.get(key);
    if (id === undefined) {
      this.byKey.set(key, (id = this.series.length));
      const op = this.expr.op;
      const steps = this.steps;
      const withTime = op === 'first_over_time' || op === 'last_over_time';
      this.series.push({
        labels,
        key,
        count: new Float64Array(steps),
        a: new Float64Array(steps),
        m2: op.startsWith('std') ? new Float64Array(steps) : undefined,
        t: withTime ? new BigInt64Array(steps) : undefined,
      });
    }
    return id;
  }

  state(): FoldState {
    return { series: this.series };
  }

  /** Adds the figures of a fold of other lines (same expression and steps). */
  merge(other: FoldState): void {
    for (const from of other.series) {
      const into = this.series[this.seriesFor(from.labels, from.key)]!;
      for (let k = 0; k < this.steps; k++) if (from.count[k]! > 0) this.join(into, from, k);
    }
  }

  evaluator(): Evaluator {
    const valueAt = finisher(this.expr.op, this.expr.selector.unwrap !== undefined, Number(this.expr.range) / 1e9);
    const { start, step, series } = this;
    return {
      at(ts) {
        const k = step > 0n ? Number((ts - start) / step) : 0;
        const samples: Sample[] = [];
        for (const s of series) if (s.count[k]! > 0) samples.push({ labels: s.labels, key: s.key, value: valueAt(s, k) });
        return { kind: 'vector', samples };
      },
    };
  }
}

/** The grouping a range aggregation's reader may reduce lines to: a `by` grouping; `without` needs every label. */
export function readGrouping(grouping: Grouping | undefined): Grouping | undefined {
  return grouping && !grouping.without ? grouping : undefined;
}

/** Every typed array of a fold state, for a postMessage transfer list. */
export function foldBuffers(state: FoldState): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const s of state.series) for (const arr of [s.count, s.a, s.m2, s.t]) if (arr) out.push(arr.buffer as ArrayBuffer);
  return out;
}

/** Adds one sample to a step's figures. */
function updater(op: string, unwrapped: boolean): (s: FoldSeries, k: number, x: number, ts: bigint) => void {
  switch (op) {
    case 'count_over_time':
      return (s, k) => {
        s.count[k]!++;
      };
    case 'rate':
      return unwrapped
        ? sumUpdate
        : (s, k) => {
            s.count[k]!++;
          };
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

const sumUpdate = (s: FoldSeries, k: number, x: number) => {
  s.count[k]!++;
  s.a[k]! += x;
};

/** Adds one step's figures of another fold of the same series (`from` has samples at k). */
function joiner(op: string): (into: FoldSeries, from: FoldSeries, k: number) => void {
  switch (op) {
    case 'avg_over_time':
      return (into, from, k) => {
        const n = into.count[k]! + from.count[k]!;
        into.a[k]! += ((from.a[k]! - into.a[k]!) * from.count[k]!) / n;
        into.count[k] = n;
      };
    case 'stdvar_over_time':
    case 'stddev_over_time':
      // Chan et al.'s pairwise update of Welford's figures.
      return (into, from, k) => {
        const na = into.count[k]!;
        const nb = from.count[k]!;
        const n = na + nb;
        const d = from.a[k]! - into.a[k]!;
        into.a[k]! += (d * nb) / n;
        into.m2![k]! += from.m2![k]! + (d * d * na * nb) / n;
        into.count[k] = n;
      };
    case 'min_over_time':
      return (into, from, k) => {
        const x = from.a[k]!;
        if (into.count[k] === 0 || x < into.a[k]! || Number.isNaN(into.a[k]!)) into.a[k] = x;
        into.count[k]! += from.count[k]!;
      };
    case 'max_over_time':
      return (into, from, k) => {
        const x = from.a[k]!;
        if (into.count[k] === 0 || x > into.a[k]! || Number.isNaN(into.a[k]!)) into.a[k] = x;
        into.count[k]! += from.count[k]!;
      };
    case 'first_over_time':
    case 'last_over_time': {
      // Folds are merged in the order of their lines, so a tie goes the way a single reader would take it.
      const first = op === 'first_over_time';
      return (into, from, k) => {
        const ts = from.t![k]!;
        if (into.count[k] === 0 || (first ? ts < into.t![k]! : ts >= into.t![k]!)) {
          into.a[k] = from.a[k]!;
          into.t![k] = ts;
        }
        into.count[k]! += from.count[k]!;
      };
    }
    default: // counts, rates and sums
      return (into, from, k) => {
        into.count[k]! += from.count[k]!;
        into.a[k]! += from.a[k]!;
      };
  }
}

/** A step's value from its figures. */
function finisher(op: string, unwrapped: boolean, seconds: number): (s: FoldSeries, k: number) => number {
  switch (op) {
    case 'count_over_time':
      return (s, k) => s.count[k]!;
    case 'rate':
      return unwrapped ? (s, k) => s.a[k]! / seconds : (s, k) => s.count[k]! / seconds;
    case 'bytes_rate':
      return (s, k) => s.a[k]! / seconds;
    case 'stdvar_over_time':
      return (s, k) => s.m2![k]! / s.count[k]!;
    case 'stddev_over_time':
      return (s, k) => Math.sqrt(s.m2![k]! / s.count[k]!);
    default:
      return (s, k) => s.a[k]!;
  }
}
