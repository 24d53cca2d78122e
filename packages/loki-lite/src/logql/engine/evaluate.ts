import { compileGoRegex, isValidLabelName, type Label, type Labels, LokiError, printLabels, sortLabels } from '@loki-lite/shared';
import type {
  ArithmeticOp,
  BinaryExpr,
  BinaryOp,
  ComparisonOp,
  Grouping,
  LabelReplaceExpr,
  RangeAggregationExpr,
  RangeOp,
  SampleExpr,
  VectorMatching,
  VectorOp,
} from '../syntax/ast.js';
import { compare } from '../syntax/compare.js';
import { aggregate, groupBy } from './aggregate.js';
import { rangeFunction } from './range-functions.js';
import { canFold, RangeFold, readGrouping } from './fold.js';
import type { Evaluator, InstantValue, Sample } from './value.js';

/*
 * Evaluation of sample expressions step by step. Each expression is prepared once (range aggregations fetch
 * their streams' line timestamps and sizes for the whole query), then evaluated at increasing step times.
 * Binary operators follow Prometheus (LogQL's are the same): scalar/scalar, vector/scalar, and one-to-one
 * vector/vector matching on identical label sets.
 */

/** The lines of one series that passed a selector's pipeline: sorted timestamps, byte sizes, unwrapped values. */
export interface StreamSamples {
  readonly labels: Labels;
  readonly timestamps: readonly bigint[];
  readonly bytes: readonly number[];
  /** With `unwrap`: each line's value. */
  readonly values?: readonly number[] | undefined;
}

/** What the engine needs from the querier (the consumer owns the interface). */
export interface SampleSource {
  /**
   * Reads the lines of `fold.expr`'s selector in `fold.readRange()` and folds them into its steps (through
   * `fold.sink()`, or by merging the folds of parts of the lines), so memory is bounded by series x steps.
   * Optional: without it the engine works from `streams`.
   */
  fold?(fold: RangeFold): Promise<void>;
  /**
   * Every line of every stream matching `expr`'s selector with from < timestamp <= through, after the
   * pipeline (and unwrap), for the functions that need a window's every value. With a `by` grouping,
   * each line's labels are reduced to it (and the parsers may skip every other label).
   */
  streams(expr: RangeAggregationExpr, from: bigint, through: bigint, grouping?: Grouping): Promise<StreamSamples[]>;
}

const bad = (message: string) => new LokiError('bad_data', 'invalid_expression', message);

/** Prepares `expr` for evaluation at start, start + step, ... <= end (`step` 0: at start only). */
export async function prepare(expr: SampleExpr, source: SampleSource, start: bigint, end: bigint, step = 0n): Promise<Evaluator> {
  switch (expr.kind) {
    case 'number':
      return { at: () => ({ kind: 'scalar', value: expr.value }) };
    case 'vector':
      return { at: () => ({ kind: 'vector', samples: [{ labels: [], key: '{}', value: expr.value }] }) };
    case 'binary': {
      const [lhs, rhs] = await Promise.all([prepare(expr.lhs, source, start, end, step), prepare(expr.rhs, source, start, end, step)]);
      return { at: (ts) => evaluateBinary(expr, lhs.at(ts), rhs.at(ts)) };
    }
    case 'vector_aggregation': {
      // No grouping is `by ()`: one group of all samples.
      const grouping = expr.grouping ?? NO_LABELS;
      const inner =
        expr.inner.kind === 'range_aggregation' && canInjectGrouping(expr.op, expr.inner.op, grouping)
          ? await prepareRange(expr.inner, source, start, end, step, grouping)
          : await prepare(expr.inner, source, start, end, step);
      return {
        at: (ts) => {
          const v = inner.at(ts);
          if (v.kind !== 'vector') throw bad(`expected a vector in ${expr.op}, got a scalar`);
          return { kind: 'vector', samples: aggregate(expr.op, expr.grouping, expr.param, v.samples) };
        },
      };
    }
    case 'range_aggregation':
      return prepareRange(expr, source, start, end, step);
    case 'label_replace': {
      const inner = await prepare(expr.inner, source, start, end, step);
      const replace = labelReplacer(expr);
      return {
        at: (ts) => {
          const v = inner.at(ts);
          if (v.kind !== 'vector') throw bad('expected a vector in label_replace, got a scalar');
          return { kind: 'vector', samples: v.samples.map(replace) };
        },
      };
    }
  }
}

/** Prometheus' label_replace: where the source label fully matches, set (or, if empty, remove) the destination. */
function labelReplacer(expr: LabelReplaceExpr): (s: Sample) => Sample {
  if (!isValidLabelName(expr.dst)) throw bad(`invalid destination label name in label_replace(): ${expr.dst}`);
  const re = compileGoRegex(expr.regex, true);
  return (s) => {
    const m = re.exec(s.labels.find((l) => l.name === expr.src)?.value ?? '');
    if (!m) return s;
    const value = expandTemplate(expr.replacement, m);
    const rest = s.labels.filter((l) => l.name !== expr.dst);
    const labels = value === '' ? rest : sortLabels([...rest, { name: expr.dst, value }]);
    return { labels, key: printLabels(labels), value: s.value };
  };
}

/** Go's Regexp.Expand: $1, ${1}, $name, ${name}; $$ is a dollar; an unknown group expands to nothing. */
function expandTemplate(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([a-zA-Z0-9_]+)\}|([a-zA-Z0-9_]+))/g, (_all, whole: string, braced?: string, bare?: string) => {
    if (whole === '$') return '$';
    const ref = braced ?? bare!;
    return (/^\d+$/.test(ref) ? m[Number(ref)] : m.groups?.[ref]) ?? '';
  });
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

/**
 * Loki's canInjectVectorGrouping: `sum by (x)` over a count, rate, bytes or sum range aggregation gives the
 * same result when the lines are grouped by x before the range aggregation, which is far cheaper.
 */
const NO_LABELS: Grouping = { without: false, labels: [] };

function canInjectGrouping(vectorOp: VectorOp, rangeOp: RangeOp, grouping: Grouping): boolean {
  if (vectorOp !== 'sum' || grouping.without) return false;
  return rangeOp === 'count_over_time' || rangeOp === 'rate' || rangeOp === 'bytes_over_time' || rangeOp === 'bytes_rate' || rangeOp === 'sum_over_time';
}

async function prepareRange(
  expr: RangeAggregationExpr,
  source: SampleSource,
  start: bigint,
  end: bigint,
  step: bigint,
  injected?: Grouping,
): Promise<Evaluator> {
  const { range, offset } = expr;
  const grouping = expr.grouping ?? injected;
  if (source.fold && canFold(expr)) {
    const fold = new RangeFold(expr, start, end, step, grouping);
    await source.fold(fold);
    return fold.evaluator();
  }
  // Windows are (t - offset - range, t - offset], as in Loki.
  const fetched = await source.streams(expr, start - offset - range, end - offset, readGrouping(grouping));
  const series = groupSeries(fetched, grouping);
  const prepared = series.map((s) => {
    const prefix = new Float64Array(s.bytes.length + 1);
    s.bytes.forEach((b, i) => (prefix[i + 1] = prefix[i]! + b));
    return { ...s, key: printLabels(s.labels), prefix };
  });
  const seconds = Number(range) / 1e9;
  if (expr.op === 'absent_over_time') {
    // One sample of 1 when no stream had a line in the window, labelled by the selector's equality matchers.
    const labels = sortLabels(expr.selector.matchers.filter((m) => m.type === '=').map((m) => ({ name: m.name, value: m.value })));
    const absent: Sample = { labels, key: printLabels(labels), value: 1 };
    return {
      at: (ts) => {
        const any = prepared.some((s) => upperBound(s.timestamps, ts - offset) > upperBound(s.timestamps, ts - offset - range));
        return { kind: 'vector', samples: any ? [] : [absent] };
      },
    };
  }
  const fn = expr.selector.unwrap ? rangeFunction(expr.op, expr.param, range) : undefined;
  // Steps come in increasing order, so a series is visited only while the window overlaps its lines:
  // series join the active list when the window reaches their first line and leave after their last.
  prepared.sort((a, b) => (a.timestamps[0]! < b.timestamps[0]! ? -1 : a.timestamps[0]! > b.timestamps[0]! ? 1 : 0));
  let next = 0;
  let active: typeof prepared = [];
  return {
    at: (ts) => {
      const samples: Sample[] = [];
      const windowStart = ts - offset - range;
      while (next < prepared.length && prepared[next]!.timestamps[0]! <= ts - offset) active.push(prepared[next++]!);
      active = active.filter((s) => s.timestamps[s.timestamps.length - 1]! > windowStart);
      for (const s of active) {
        const from = upperBound(s.timestamps, windowStart);
        const through = upperBound(s.timestamps, ts - offset);
        const count = through - from;
        if (count === 0) continue;
        let value: number;
        if (fn) value = fn(s.values!, s.timestamps, from, through, ts - offset);
        else {
          const bytes = s.prefix[through]! - s.prefix[from]!;
          value = expr.op === 'count_over_time' ? count : expr.op === 'rate' ? count / seconds : expr.op === 'bytes_over_time' ? bytes : bytes / seconds;
        }
        samples.push({ labels: s.labels, key: s.key, value });
      }
      return { kind: 'vector', samples };
    },
  };
}

/**
 * `by`/`without` on a range aggregation: the series of a group are merged into one before the function
 * runs over the window (max_over_time(...) by (x) is the max over all lines of the group).
 */
function groupSeries(streams: StreamSamples[], grouping: Grouping | undefined): StreamSamples[] {
  if (!grouping) return streams;
  return [...groupBy(streams, grouping).values()].map(({ labels, members }) => {
    if (members.length === 1) return { ...members[0]!, labels };
    const points = members.flatMap((m) => m.timestamps.map((t, i) => ({ t, b: m.bytes[i]!, v: m.values?.[i] ?? 0 })));
    points.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    return { labels, timestamps: points.map((p) => p.t), bytes: points.map((p) => p.b), values: points.map((p) => p.v) };
  });
}

function arithmetic(op: ArithmeticOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b; // Go's math.Mod: the sign of the dividend, as JavaScript's %
    case '^':
      return a ** b;
  }
}

const isSetOp = (op: BinaryOp) => op === 'and' || op === 'or' || op === 'unless';
const isComparison = (op: BinaryOp) => op === '==' || op === '!=' || op === '>' || op === '>=' || op === '<' || op === '<=';

/** Applies `op` to one pair of values: the new value, or undefined when a comparison filters it out. */
function combine(expr: BinaryExpr, a: number, b: number, kept: number): number | undefined {
  if (!isComparison(expr.op)) return arithmetic(expr.op as ArithmeticOp, a, b);
  const holds = compare(expr.op as ComparisonOp, a, b);
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

/** The part of a sample's labels that `on (...)` / `ignoring (...)` match on; all of them without modifiers. */
function signature(s: Sample, matching: VectorMatching | undefined): string {
  if (!matching) return s.key;
  const names = new Set(matching.labels);
  return printLabels(s.labels.filter((l) => names.has(l.name) === matching.on));
}

/**
 * The labels of a result sample (Prometheus resultMetric): one-to-one matching keeps only the `on` labels
 * or drops the `ignoring` ones; group_left/right keep the "many" side's labels plus the `include` labels
 * of the "one" side.
 */
function resultLabels(many: Sample, one: Sample, matching: VectorMatching | undefined): Sample {
  if (!matching) return many;
  let labels: Label[];
  if (matching.group === undefined) {
    const names = new Set(matching.labels);
    labels = many.labels.filter((l) => names.has(l.name) === matching.on);
  } else {
    const include = new Set(matching.include);
    labels = many.labels.filter((l) => !include.has(l.name));
    for (const l of one.labels) if (include.has(l.name)) labels.push(l);
    labels = sortLabels(labels);
  }
  return { labels, key: printLabels(labels), value: many.value };
}

function bySignature(samples: readonly Sample[], matching: VectorMatching | undefined, side: string, unique: boolean): Map<string, Sample> {
  const out = new Map<string, Sample>();
  for (const s of samples) {
    const sig = signature(s, matching);
    if (unique && out.has(sig)) {
      throw bad(
        `found duplicate series for the match group ${sig} on the ${side} hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    out.set(sig, s);
  }
  return out;
}

function vectorVector(expr: BinaryExpr, lhs: readonly Sample[], rhs: readonly Sample[]): InstantValue {
  const { matching } = expr;
  if (expr.op === 'and' || expr.op === 'unless' || expr.op === 'or') {
    const right = new Set(rhs.map((s) => signature(s, matching)));
    if (expr.op === 'and') return { kind: 'vector', samples: lhs.filter((s) => right.has(signature(s, matching))) };
    if (expr.op === 'unless') return { kind: 'vector', samples: lhs.filter((s) => !right.has(signature(s, matching))) };
    const left = new Set(lhs.map((s) => signature(s, matching)));
    return { kind: 'vector', samples: [...lhs, ...rhs.filter((s) => !left.has(signature(s, matching)))] };
  }
  // The "one" side must be unique per signature; so must the other side unless grouping says it is "many".
  const group = matching?.group;
  const ones = bySignature(group === 'right' ? lhs : rhs, matching, group === 'right' ? 'left' : 'right', true);
  if (group === undefined) bySignature(lhs, matching, 'left', true);
  const out: Sample[] = [];
  for (const many of group === 'right' ? rhs : lhs) {
    const one = ones.get(signature(many, matching));
    if (!one) continue;
    const [l, r] = group === 'right' ? [one, many] : [many, one];
    const v = combine(expr, l.value, r.value, many.value);
    if (v !== undefined) out.push({ ...resultLabels(many, one, matching), value: v });
  }
  return { kind: 'vector', samples: out };
}
