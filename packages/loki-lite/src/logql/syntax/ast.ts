import type { LabelMatcher } from '@loki-lite/shared';

/*
 * The LogQL AST: readonly discriminated unions. The LogQL issue extends this with parsers, label filters,
 * formatters and the range and vector aggregations over log streams.
 */

export type LineFilterOp = '|=' | '!=' | '|~' | '!~' | '|>' | '!>';

export interface LineFilterStage {
  readonly kind: 'line_filter';
  readonly op: LineFilterOp;
  readonly value: string;
  /** Further alternatives joined with `or` (`|= "a" or "b"`): the filter passes if any matches. */
  readonly or: readonly string[];
  /** `|= ip("10.0.0.0/8")`: the value is an IP, range or CIDR to find in the line. */
  readonly ip: boolean;
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

/** `| json`, `| json a="b.c[0]"`: all fields flattened with `_`, or only the named expressions. */
export interface JsonStage {
  readonly kind: 'json';
  readonly params: readonly LabelExtraction[];
}

/** `| logfmt`, `| logfmt --strict --keep-empty a="b"`. */
export interface LogfmtStage {
  readonly kind: 'logfmt';
  readonly strict: boolean;
  readonly keepEmpty: boolean;
  readonly params: readonly LabelExtraction[];
}

/** `name="expression"` of json/logfmt (a bare `name` means `name="name"`). */
export interface LabelExtraction {
  readonly name: string;
  readonly expression: string;
}

export interface RegexpStage {
  readonly kind: 'regexp';
  readonly pattern: string;
}

export interface PatternStage {
  readonly kind: 'pattern';
  readonly pattern: string;
}

export interface UnpackStage {
  readonly kind: 'unpack';
}

export interface DecolorizeStage {
  readonly kind: 'decolorize';
}

export interface LineFormatStage {
  readonly kind: 'line_format';
  readonly template: string;
}

/** `label_format dst="{{template}}"` or `label_format dst=src` (a rename). */
export interface LabelFormatStage {
  readonly kind: 'label_format';
  readonly formats: ReadonlyArray<{ readonly name: string; readonly template: string | undefined; readonly rename: string | undefined }>;
}

/** A label filter: `| a="x"`, `| n > 5`, `| d >= 1s`, `| b < 1KB`, `| ip = ip("10.0.0.0/8")`, and/or/(). */
export type LabelFilterExpr =
  | { readonly kind: 'and' | 'or'; readonly left: LabelFilterExpr; readonly right: LabelFilterExpr }
  | { readonly kind: 'string'; readonly matcher: LabelMatcher }
  | { readonly kind: 'number' | 'duration' | 'bytes'; readonly name: string; readonly op: ComparisonOp; readonly value: number; readonly text: string }
  | { readonly kind: 'ip'; readonly name: string; readonly negated: boolean; readonly pattern: string };

export interface LabelFilterStage {
  readonly kind: 'label_filter';
  readonly filter: LabelFilterExpr;
}

export type PipelineStage =
  | LineFilterStage
  | LabelsStage
  | JsonStage
  | LogfmtStage
  | RegexpStage
  | PatternStage
  | UnpackStage
  | DecolorizeStage
  | LineFormatStage
  | LabelFormatStage
  | LabelFilterStage;

export type UnwrapConversion = 'bytes' | 'duration' | 'duration_seconds' | undefined;

/** `| unwrap [conv(]name[)]` and the label filters after it: the sample value of each line. */
export interface Unwrap {
  readonly name: string;
  readonly conversion: UnwrapConversion;
  readonly filters: readonly LabelFilterExpr[];
}

export interface LogSelectorExpr {
  readonly kind: 'log_selector';
  readonly matchers: readonly LabelMatcher[];
  readonly pipeline: readonly PipelineStage[];
  /** Only inside range aggregations that take a value. */
  readonly unwrap?: Unwrap;
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

/** Range aggregations over the lines themselves. */
export type LogRangeOp = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate' | 'absent_over_time';
/** Range aggregations over unwrapped values. */
export type UnwrapRangeOp =
  | 'sum_over_time'
  | 'avg_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'stddev_over_time'
  | 'stdvar_over_time'
  | 'quantile_over_time'
  | 'first_over_time'
  | 'last_over_time'
  | 'rate_counter';
export type RangeOp = LogRangeOp | UnwrapRangeOp;

/** `count_over_time({...} |= "x" [5m] offset 1m)`: a value per stream per step from its lines in a window. */
export interface RangeAggregationExpr {
  readonly kind: 'range_aggregation';
  readonly op: RangeOp;
  readonly selector: LogSelectorExpr;
  /** Window length, ns. */
  readonly range: bigint;
  /** Shift of the window into the past, ns. */
  readonly offset: bigint;
  /** φ of quantile_over_time. */
  readonly param: number | undefined;
  /** `by`/`without` of the unwrapped aggregations (others take theirs from an outer vector aggregation). */
  readonly grouping: Grouping | undefined;
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
