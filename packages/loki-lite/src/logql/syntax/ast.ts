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

export type PipelineStage = LineFilterStage;

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

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  /** `bool` after a comparison: return 0/1 instead of filtering. */
  readonly returnBool: boolean;
  readonly lhs: SampleExpr;
  readonly rhs: SampleExpr;
}

/** An expression whose value is numbers (a scalar or a vector), as opposed to log lines. */
export type SampleExpr = NumberLiteral | VectorExpr | BinaryExpr;

export type Expr = LogSelectorExpr | SampleExpr;
