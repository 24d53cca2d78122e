import type { LabelMatcher } from './matchers.js';

/*
 * The LogQL AST: readonly discriminated unions. The LogQL issue extends this with parsers, label filters,
 * formatters and the range and vector aggregations over log streams.
 */

export type LineFilterOp = '|=' | '!=' | '|~' | '!~';

export interface LineFilterStage {
  readonly kind: 'line_filter';
  readonly op: LineFilterOp;
  readonly value: string;
  /** Further alternatives joined with `or` (`|= "a" or "b"`): the filter passes if any matches. */
  readonly or: readonly string[];
  readonly offset: number;
}

/** A label named in `drop`/`keep`: by name alone, or with a matcher on its value (`level="debug"`). */
export interface LabelSelection {
  readonly name: string;
  readonly matcher: LabelMatcher | undefined;
}

/** `| drop a, b="x"` removes labels; `| keep a, b` removes all others. */
export interface LabelsStage {
  readonly kind: 'drop' | 'keep';
  readonly labels: readonly LabelSelection[];
}

export type PipelineStage = LineFilterStage | LabelsStage;

export interface LogSelectorExpr {
  readonly kind: 'log_selector';
  readonly matchers: readonly LabelMatcher[];
  readonly pipeline: readonly PipelineStage[];
}

/** A number: `1`, `2.5`, `0x1f`, `1e3`, `Inf`, `NaN`. */
export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
}

/** `vector(s)`: a one-sample vector with no labels. */
export interface VectorExpr {
  readonly kind: 'vector';
  readonly value: number;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type ComparisonOp = '==' | '!=' | '>' | '>=' | '<' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

/** `on (a, b)` / `ignoring (c)`, and `group_left (d)` / `group_right (d)` for many-to-one matching. */
export interface VectorMatching {
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly group: 'left' | 'right' | undefined;
  /** Labels copied from the "one" side onto the result. */
  readonly include: readonly string[];
}

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  /** `bool` after a comparison: return 0/1 instead of filtering. */
  readonly returnBool: boolean;
  /** Undefined: one-to-one matching on identical label sets. */
  readonly matching: VectorMatching | undefined;
  readonly lhs: SampleExpr;
  readonly rhs: SampleExpr;
}

export type RangeOp = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate' | 'absent_over_time';

/** `count_over_time({...} |= "x" [5m] offset 1m)`: a value per stream per step from its lines in a window. */
export interface RangeAggregationExpr {
  readonly kind: 'range_aggregation';
  readonly op: RangeOp;
  readonly selector: LogSelectorExpr;
  /** Window length, ns. */
  readonly range: bigint;
  /** Shift of the window into the past, ns. */
  readonly offset: bigint;
}

export type VectorOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'sort' | 'sort_desc';

export interface Grouping {
  /** `by` keeps only these labels; `without` drops them. */
  readonly without: boolean;
  readonly labels: readonly string[];
}

/** `sum by (app) (...)`, `topk(3, ...)`: combines the samples of each group at each step. */
export interface VectorAggregationExpr {
  readonly kind: 'vector_aggregation';
  readonly op: VectorOp;
  readonly grouping: Grouping | undefined;
  /** k of topk/bottomk. */
  readonly param: number | undefined;
  readonly inner: SampleExpr;
}

/** `label_replace(v, "dst", "replacement", "src", "regex")`, as in Prometheus. */
export interface LabelReplaceExpr {
  readonly kind: 'label_replace';
  readonly inner: SampleExpr;
  readonly dst: string;
  readonly replacement: string;
  readonly src: string;
  readonly regex: string;
}

/** An expression whose value is numbers (a scalar or a vector), as opposed to log lines. */
export type SampleExpr = NumberLiteral | VectorExpr | BinaryExpr | RangeAggregationExpr | VectorAggregationExpr | LabelReplaceExpr;

export type Expr = LogSelectorExpr | SampleExpr;
