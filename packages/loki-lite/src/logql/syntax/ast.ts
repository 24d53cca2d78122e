import type { LabelMatcher } from './matchers.js';

/*
 * The LogQL AST: readonly discriminated unions. Each node keeps the offset where it starts for error
 * messages. Issue 3 extends this with parsers, label filters, formatters and metric expressions.
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

export type Expr = LogSelectorExpr;
