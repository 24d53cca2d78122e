import { type Labels, LokiError, printLabels } from '@loki-lite/shared';
import type { ArithmeticOp, BinaryExpr, BinaryOp, LogSelectorExpr, RangeAggregationExpr, SampleExpr } from '../syntax/ast.js';
import { aggregate } from './aggregate.js';
import type { InstantValue, Sample } from './value.js';

/*
 * Evaluation of sample expressions step by step. Each expression is prepared once (range aggregations fetch
 * their streams' line timestamps and sizes for the whole query), then evaluated at increasing step times.
 * Binary operators follow Prometheus (LogQL's are the same): scalar/scalar, vector/scalar, and one-to-one
 * vector/vector matching on identical label sets.
 */

/** The lines of one stream that passed a selector's pipeline: sorted timestamps and byte sizes. */
export interface StreamSamples {
  readonly labels: Labels;
  readonly timestamps: readonly bigint[];
  readonly bytes: readonly number[];
}

/** What the engine needs from the querier (the consumer owns the interface). */
export interface SampleSource {
  /** Every line of every matching stream with from < timestamp <= through, after the pipeline. */
  streams(selector: LogSelectorExpr, from: bigint, through: bigint): Promise<StreamSamples[]>;
}

export interface Evaluator {
  /** The value at `ts`; calls come with increasing `ts`. */
  at(ts: bigint): InstantValue;
}

const bad = (message: string) => new LokiError('bad_data', 'invalid_expression', message);

/** Prepares `expr` for evaluation at steps within [start, end]. */
export async function prepare(expr: SampleExpr, source: SampleSource, start: bigint, end: bigint): Promise<Evaluator> {
  switch (expr.kind) {
    case 'number':
      return { at: () => ({ kind: 'scalar', value: expr.value }) };
    case 'vector':
      return { at: () => ({ kind: 'vector', samples: [{ labels: [], key: '{}', value: expr.value }] }) };
    case 'binary': {
      const [lhs, rhs] = await Promise.all([prepare(expr.lhs, source, start, end), prepare(expr.rhs, source, start, end)]);
      return { at: (ts) => evaluateBinary(expr, lhs.at(ts), rhs.at(ts)) };
    }
    case 'vector_aggregation': {
      const inner = await prepare(expr.inner, source, start, end);
      return {
        at: (ts) => {
          const v = inner.at(ts);
          if (v.kind !== 'vector') throw bad(`expected a vector in ${expr.op}, got a scalar`);
          return { kind: 'vector', samples: aggregate(expr.op, expr.grouping, expr.param, v.samples) };
        },
      };
    }
    case 'range_aggregation':
      return prepareRange(expr, source, start, end);
  }
}

/** Evaluates at a single instant (instant queries, tests). */
export async function evaluateAt(expr: SampleExpr, source: SampleSource, ts: bigint): Promise<InstantValue> {
  return (await prepare(expr, source, ts, ts)).at(ts);
}

/** Index of the first timestamp > t in a sorted list. */
function upperBound(ts: readonly bigint[], t: bigint): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function prepareRange(expr: RangeAggregationExpr, source: SampleSource, start: bigint, end: bigint): Promise<Evaluator> {
  const { range, offset } = expr;
  // Windows are (t - offset - range, t - offset], as in Loki.
  const streams = await source.streams(expr.selector, start - offset - range, end - offset);
  const prepared = streams.map((s) => {
    const prefix = new Float64Array(s.bytes.length + 1);
    s.bytes.forEach((b, i) => (prefix[i + 1] = prefix[i]! + b));
    return { labels: s.labels, key: printLabels(s.labels), timestamps: s.timestamps, prefix };
  });
  const seconds = Number(range) / 1e9;
  return {
    at: (ts) => {
      const samples: Sample[] = [];
      for (const s of prepared) {
        const from = upperBound(s.timestamps, ts - offset - range);
        const through = upperBound(s.timestamps, ts - offset);
        const count = through - from;
        if (count === 0) continue;
        const bytes = s.prefix[through]! - s.prefix[from]!;
        const value = expr.op === 'count_over_time' ? count : expr.op === 'rate' ? count / seconds : expr.op === 'bytes_over_time' ? bytes : bytes / seconds;
        samples.push({ labels: s.labels, key: s.key, value });
      }
      return { kind: 'vector', samples };
    },
  };
}

function arithmetic(op: ArithmeticOp, a: number, b: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '%': return a % b; // Go's math.Mod: the sign of the dividend, as JavaScript's %
    case '^': return a ** b;
  }
}

function compare(op: BinaryOp, a: number, b: number): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
    default: throw new Error(`not a comparison: ${op}`);
  }
}

const isSetOp = (op: BinaryOp) => op === 'and' || op === 'or' || op === 'unless';
const isComparison = (op: BinaryOp) => op === '==' || op === '!=' || op === '>' || op === '>=' || op === '<' || op === '<=';

/** Applies `op` to one pair of values: the new value, or undefined when a comparison filters it out. */
function combine(expr: BinaryExpr, a: number, b: number, kept: number): number | undefined {
  if (!isComparison(expr.op)) return arithmetic(expr.op as ArithmeticOp, a, b);
  const holds = compare(expr.op, a, b);
  if (expr.returnBool) return holds ? 1 : 0;
  return holds ? kept : undefined;
}

export function evaluateBinary(expr: BinaryExpr, lhs: InstantValue, rhs: InstantValue): InstantValue {
  const { op } = expr;
  if (isSetOp(op) && (lhs.kind === 'scalar' || rhs.kind === 'scalar')) throw bad(`set operator "${op}" not allowed in binary scalar expression`);
  if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
    if (isComparison(op) && !expr.returnBool) throw bad('comparisons between scalars must use BOOL modifier');
    return { kind: 'scalar', value: combine(expr, lhs.value, rhs.value, lhs.value)! };
  }
  if (lhs.kind === 'vector' && rhs.kind === 'vector') return vectorVector(expr, lhs.samples, rhs.samples);
  // One side is a scalar: apply it to every sample of the vector, keeping the vector's labels and values.
  const out: Sample[] = [];
  if (lhs.kind === 'vector') {
    for (const s of lhs.samples) {
      const v = combine(expr, s.value, (rhs as { value: number }).value, s.value);
      if (v !== undefined) out.push({ ...s, value: v });
    }
  } else {
    for (const s of (rhs as { samples: readonly Sample[] }).samples) {
      const v = combine(expr, lhs.value, s.value, s.value);
      if (v !== undefined) out.push({ ...s, value: v });
    }
  }
  return { kind: 'vector', samples: out };
}

function vectorVector(expr: BinaryExpr, lhs: readonly Sample[], rhs: readonly Sample[]): InstantValue {
  const right = new Map(rhs.map((s) => [s.key, s]));
  switch (expr.op) {
    case 'and': return { kind: 'vector', samples: lhs.filter((s) => right.has(s.key)) };
    case 'unless': return { kind: 'vector', samples: lhs.filter((s) => !right.has(s.key)) };
    case 'or': {
      const left = new Set(lhs.map((s) => s.key));
      return { kind: 'vector', samples: [...lhs, ...rhs.filter((s) => !left.has(s.key))] };
    }
    default: {
      const out: Sample[] = [];
      for (const l of lhs) {
        const r = right.get(l.key);
        if (!r) continue;
        const v = combine(expr, l.value, r.value, l.value);
        if (v !== undefined) out.push({ ...l, value: v });
      }
      return { kind: 'vector', samples: out };
    }
  }
}
