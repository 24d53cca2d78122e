import {
  compileGoRegex,
  type LabelMatcher,
  lineCol,
  LokiError,
  matchesEmpty,
  type MatchType,
  newLabelMatcher,
  parseDuration,
  parseHumanBytes,
  RegexError,
} from '@loki-lite/shared';
import type {
  BinaryOp,
  ComparisonOp,
  Expr,
  Grouping,
  LabelExtraction,
  LabelFilterExpr,
  LabelFormatStage,
  LabelReplaceExpr,
  LabelSelection,
  LabelsStage,
  LineFilterOp,
  LineFilterStage,
  LogSelectorExpr,
  PipelineStage,
  RangeAggregationExpr,
  RangeOp,
  SampleExpr,
  Unwrap,
  UnwrapConversion,
  VectorAggregationExpr,
  VectorMatching,
  VectorOp,
} from './ast.js';
import { ParseError } from './errors.js';
import { type Token, type TokenKind, tokenize } from './lexer.js';

/** Binary operator precedence, lowest first, as in Prometheus and LogQL. */
const PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};
const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '<', '<=', '>', '>=']);
const RANGE_OPS: ReadonlySet<string> = new Set<RangeOp>([
  'count_over_time',
  'rate',
  'bytes_over_time',
  'bytes_rate',
  'absent_over_time',
  'sum_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'rate_counter',
]);
/** Range aggregations that may take `by`/`without` (Loki's RangeAggregationExpr.validate). */
const GROUPABLE_RANGE_OPS: ReadonlySet<string> = new Set<RangeOp>([
  'avg_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'max_over_time',
  'min_over_time',
  'first_over_time',
  'last_over_time',
]);
const LOG_RANGE_OPS: ReadonlySet<string> = new Set<RangeOp>(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time']);
const PARSER_STAGES: ReadonlySet<string> = new Set([
  'json',
  'logfmt',
  'regexp',
  'pattern',
  'unpack',
  'decolorize',
  'line_format',
  'label_format',
  'drop',
  'keep',
]);
const FILTER_OPS: ReadonlySet<TokenKind> = new Set<TokenKind>(['=', '==', '!=', '>', '>=', '<', '<=', '=~', '!~']);
const VECTOR_OPS: ReadonlySet<string> = new Set<VectorOp>(['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'sort', 'sort_desc']);

/** Loki refuses queries of this many bytes or more (maxInputSize in pkg/logql/syntax/parser.go). */
export const MAX_INPUT_SIZE = 131072;

/**
 * How deeply a query may nest: parentheses, arguments, operands and label filters inside one another, and
 * chains of binary operators or label filters (each link is one level of the tree). Loki has no such limit
 * (its parser keeps its own stack and Go stacks grow), but here the parser and everything that walks the
 * tree (printing, compiling, evaluating) recurse, and a query nested a few thousand levels deep overflowed
 * the stack into a 500. Real queries stay far below it.
 */
export const MAX_QUERY_DEPTH = 1000;

/** Go regexp's words for the same limit of its own ("expression nests too deeply"). */
const tooDeep = (line: number, col: number) => new ParseError(`expression nests too deeply (more than ${MAX_QUERY_DEPTH} levels)`, line, col);

/** Recursive-descent LogQL parser. */
class Parser {
  private pos = 0;
  /** Recursion depth of the parse functions that nest (sample expressions, label filters). */
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  /** A token as goyacc names it in Loki's syntax errors: its kind, and `$end` for the end of the query. */
  private describe(t: Token): string {
    return t.kind === 'EOF' ? '$end' : t.kind;
  }

  fail(t: Token, expecting?: string): never {
    const { line, col } = lineCol(this.src, t.offset);
    throw new ParseError(`syntax error: unexpected ${this.describe(t)}${expecting ? `, expecting ${expecting}` : ''}`, line, col);
  }

  /** Enters one level of nesting; the caller leaves it with `this.depth--` once its part is parsed. */
  private enter(): void {
    if (++this.depth <= MAX_QUERY_DEPTH) return;
    const { line, col } = lineCol(this.src, this.peek().offset);
    throw tooDeep(line, col);
  }

  private expect(kind: TokenKind, expecting: string = kind): Token {
    const t = this.next();
    if (t.kind !== kind) this.fail(t, expecting);
    return t;
  }

  parseQuery(): Expr {
    const expr = this.peek().kind === '{' ? this.parseLogSelector() : this.parseSampleExpr(0);
    if (this.peek().kind !== 'EOF') this.fail(this.peek());
    return expr;
  }

  /** The binary operator at the current token, if any (`and`, `or`, `unless` are identifiers). */
  private peekBinaryOp(): BinaryOp | undefined {
    const t = this.peek();
    if (t.kind === 'IDENTIFIER') return t.text === 'and' || t.text === 'or' || t.text === 'unless' ? t.text : undefined;
    return t.kind in PRECEDENCE ? (t.kind as BinaryOp) : undefined;
  }

  /** Precedence climbing over Prometheus' operator table; `^` is right-associative. */
  private parseSampleExpr(minPrecedence: number): SampleExpr {
    this.enter();
    let lhs = this.parseUnary();
    for (;;) {
      const op = this.peekBinaryOp();
      if (op === undefined || PRECEDENCE[op] < minPrecedence) break;
      this.next();
      let returnBool = false;
      if (this.peek().kind === 'IDENTIFIER' && this.peek().text === 'bool') {
        if (!COMPARISONS.has(op)) throw new LokiError('bad_data', 'parse_error', 'parse error : bool modifier can only be used on comparison operators');
        this.next();
        returnBool = true;
      }
      const matching = this.parseVectorMatching();
      const rhs = this.parseSampleExpr(op === '^' ? PRECEDENCE[op] : PRECEDENCE[op] + 1);
      lhs = { kind: 'binary', op, returnBool, matching, lhs, rhs };
    }
    this.depth--;
    return lhs;
  }

  /** Leading signs: `+` changes nothing, each `-` negates. A loop, since `- - - ... 1` may be as long as the query. */
  private parseUnary(): SampleExpr {
    let minuses = 0;
    while (this.peek().kind === '-' || this.peek().kind === '+') if (this.next().kind === '-') minuses++;
    let expr = this.parsePrimary();
    for (; minuses > 0; minuses--) {
      expr =
        expr.kind === 'number'
          ? { kind: 'number', value: -expr.value }
          : { kind: 'binary', op: '*', returnBool: false, matching: undefined, lhs: { kind: 'number', value: -1 }, rhs: expr };
    }
    return expr;
  }

  private parsePrimary(): SampleExpr {
    const t = this.next();
    if (t.kind === 'NUMBER') return { kind: 'number', value: Number(t.text) };
    if (t.kind === '(') {
      const inner = this.parseSampleExpr(0);
      this.expect(')');
      return inner;
    }
    if (t.kind === 'IDENTIFIER') {
      if (t.text === 'vector') {
        this.expect('(');
        const sign = this.peek().kind === '-' ? (this.next(), -1) : 1;
        const n = this.expect('NUMBER', 'NUMBER');
        this.expect(')');
        return { kind: 'vector', value: sign * Number(n.text) };
      }
      if (t.text === 'Inf' || t.text === 'inf' || t.text === 'NaN' || t.text === 'nan')
        return { kind: 'number', value: t.text.toLowerCase() === 'nan' ? NaN : Infinity };
      if (RANGE_OPS.has(t.text)) return this.parseRangeAggregation(t.text as RangeOp);
      if (t.text === 'label_replace') return this.parseLabelReplace();
      if (VECTOR_OPS.has(t.text)) return this.parseVectorAggregation(t.text as VectorOp);
      // Range and vector aggregations over log streams (count_over_time, sum by, ...) come with the engine.
      throw new LokiError('bad_data', 'not_implemented', `parse error : ${t.text}: functions and aggregations are not supported by loki-lite yet`);
    }
    return this.fail(t, 'NUMBER or vector or (');
  }

  private parseRangeAggregation(op: RangeOp): RangeAggregationExpr {
    this.expect('(');
    let param: number | undefined;
    if (op === 'quantile_over_time') {
      param = Number(this.expect('NUMBER').text);
      this.expect(',');
    }
    // `{a="b"} | json [5m]`, or the pipeline after the range: `{a="b"}[5m] | json`.
    const parenthesized = this.peek().kind === '(';
    if (parenthesized) this.next();
    let selector = this.parseLogSelector(true);
    if (parenthesized) this.expect(')');
    this.expect('[', '[');
    const range = this.parseDuration();
    this.expect(']');
    const after = this.peek().kind;
    if (
      selector.pipeline.length === 0 &&
      !selector.unwrap &&
      (after === '|' || after === '|=' || after === '!=' || after === '|~' || after === '!~' || after === '|>' || after === '!>')
    ) {
      const rest = this.parsePipeline(true);
      selector = { ...selector, pipeline: rest.pipeline, unwrap: rest.unwrap };
    }
    let offset = 0n;
    if (this.peek().kind === 'IDENTIFIER' && this.peek().text === 'offset') {
      this.next();
      offset = this.parseDuration();
    }
    this.expect(')');
    const grouping = this.parseGrouping();
    validateRangeAggregation(op, selector, grouping);
    return { kind: 'range_aggregation', op, selector, range, offset, param, grouping };
  }

  private parseDuration(): bigint {
    const t = this.next();
    const d = t.kind === 'DURATION' ? parseDuration(t.text) : undefined;
    if (d === undefined) this.fail(t, 'DURATION');
    return d!;
  }

  private parseVectorAggregation(op: VectorOp): VectorAggregationExpr {
    let grouping = this.parseGrouping();
    this.expect('(');
    let param: number | undefined;
    if (op === 'topk' || op === 'bottomk') {
      param = Number(this.expect('NUMBER').text);
      if (!Number.isInteger(param) || param <= 0) throw new LokiError('bad_data', 'parse_error', `parse error : invalid parameter for ${op}: ${param}`);
      this.expect(',');
    }
    const inner = this.parseSampleExpr(0);
    this.expect(')');
    grouping ??= this.parseGrouping();
    if (grouping && (op === 'sort' || op === 'sort_desc')) throw new LokiError('bad_data', 'parse_error', `parse error : ${op} cannot be grouped`);
    return { kind: 'vector_aggregation', op, grouping, param, inner };
  }

  private parseGrouping(): Grouping | undefined {
    const t = this.peek();
    if (t.kind !== 'IDENTIFIER' || (t.text !== 'by' && t.text !== 'without')) return undefined;
    this.next();
    return { without: t.text === 'without', labels: this.parseLabelList() };
  }

  /** `(a, b, c)` */
  private parseLabelList(): string[] {
    this.expect('(');
    const labels: string[] = [];
    while (this.peek().kind !== ')') {
      labels.push(this.expect('IDENTIFIER').text);
      if (this.peek().kind === ',') this.next();
      else break;
    }
    this.expect(')');
    return labels;
  }

  private parseVectorMatching(): VectorMatching | undefined {
    const t = this.peek();
    if (t.kind !== 'IDENTIFIER' || (t.text !== 'on' && t.text !== 'ignoring')) return undefined;
    this.next();
    const labels = this.parseLabelList();
    let group: VectorMatching['group'];
    let include: string[] = [];
    const g = this.peek();
    if (g.kind === 'IDENTIFIER' && (g.text === 'group_left' || g.text === 'group_right')) {
      this.next();
      group = g.text === 'group_left' ? 'left' : 'right';
      if (this.peek().kind === '(') include = this.parseLabelList();
    }
    return { on: t.text === 'on', labels, group, include };
  }

  private parseLabelReplace(): LabelReplaceExpr {
    this.expect('(');
    const inner = this.parseSampleExpr(0);
    const args: string[] = [];
    for (let i = 0; i < 4; i++) {
      this.expect(',');
      args.push(this.expect('STRING').text);
    }
    this.expect(')');
    const [dst, replacement, src, regex] = args as [string, string, string, string];
    checkRegex(regex);
    return { kind: 'label_replace', inner, dst, replacement, src, regex };
  }

  private parseLogSelector(allowUnwrap = false): LogSelectorExpr {
    const matchers = this.parseMatchers();
    const { pipeline, unwrap } = this.parsePipeline(allowUnwrap);
    return unwrap ? { kind: 'log_selector', matchers, pipeline, unwrap } : { kind: 'log_selector', matchers, pipeline };
  }

  private parsePipeline(allowUnwrap: boolean): { pipeline: PipelineStage[]; unwrap: Unwrap | undefined } {
    const pipeline: PipelineStage[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === '|=' || t.kind === '|~' || t.kind === '!=' || t.kind === '!~' || t.kind === '|>' || t.kind === '!>') {
        pipeline.push(this.parseLineFilter());
        continue;
      }
      if (t.kind !== '|') break;
      this.next();
      const name = this.peek();
      if (name.kind === 'IDENTIFIER' && name.text === 'unwrap' && allowUnwrap) {
        this.next();
        return { pipeline, unwrap: this.parseUnwrap() };
      }
      if (name.kind === 'IDENTIFIER' && PARSER_STAGES.has(name.text) && !FILTER_OPS.has(this.tokens[this.pos + 1]!.kind)) {
        this.next();
        pipeline.push(this.parseStage(name.text));
      } else if (name.kind === 'IDENTIFIER' || name.kind === '(') {
        pipeline.push({ kind: 'label_filter', filter: this.parseLabelFilter(0) });
      } else {
        this.fail(name, 'IDENTIFIER');
      }
    }
    return { pipeline, unwrap: undefined };
  }

  private parseStage(name: string): PipelineStage {
    switch (name) {
      case 'json':
        return { kind: 'json', params: this.parseExtractions() };
      case 'logfmt': {
        let strict = false;
        let keepEmpty = false;
        while (this.peek().kind === '-' && this.tokens[this.pos + 1]?.kind === '-') {
          const flag = this.tokens[this.pos + 2]!;
          if (flag.kind !== 'IDENTIFIER' || (flag.text !== 'strict' && flag.text !== 'keep')) this.fail(flag, 'strict or keep-empty');
          this.pos += 3;
          if (flag.text === 'strict') strict = true;
          else {
            this.expect('-');
            const empty = this.expect('IDENTIFIER');
            if (empty.text !== 'empty') this.fail(empty, 'empty');
            keepEmpty = true;
          }
        }
        return { kind: 'logfmt', strict, keepEmpty, params: this.parseExtractions() };
      }
      case 'regexp': {
        const pattern = this.expect('STRING').text;
        validateRegexpParser(pattern);
        return { kind: 'regexp', pattern };
      }
      case 'pattern':
        return { kind: 'pattern', pattern: this.expect('STRING').text };
      case 'unpack':
        return { kind: 'unpack' };
      case 'decolorize':
        return { kind: 'decolorize' };
      case 'line_format':
        return { kind: 'line_format', template: this.expect('STRING').text };
      case 'label_format':
        return this.parseLabelFormat();
      default:
        return this.parseLabelsStage(name as 'drop' | 'keep');
    }
  }

  /** `a="x.y", b` after json/logfmt; empty when the next token does not start one. */
  private parseExtractions(): LabelExtraction[] {
    const out: LabelExtraction[] = [];
    while (this.peek().kind === 'IDENTIFIER' && this.peek().text !== 'offset') {
      const name = this.next().text;
      let expression = name;
      if (this.peek().kind === '=') {
        this.next();
        expression = this.expect('STRING').text;
      }
      out.push({ name, expression });
      if (this.peek().kind !== ',') break;
      this.next();
    }
    return out;
  }

  private parseLabelFormat(): LabelFormatStage {
    const formats: Array<LabelFormatStage['formats'][number]> = [];
    const seen = new Set<string>();
    for (;;) {
      const name = this.expect('IDENTIFIER').text;
      this.expect('=');
      const v = this.next();
      if (v.kind === 'STRING') formats.push({ name, template: v.text, rename: undefined });
      else if (v.kind === 'IDENTIFIER') formats.push({ name, template: undefined, rename: v.text });
      else this.fail(v, 'STRING or IDENTIFIER');
      if (seen.has(name)) throw new ParseError(`multiple label name '${name}' not allowed in a single format operation`, 0, 0);
      seen.add(name);
      if (this.peek().kind !== ',') return { kind: 'label_format', formats };
      this.next();
    }
  }

  /** Label filters: `and` binds tighter than `or`; `,` and juxtaposition mean `and`. */
  private parseLabelFilter(minPrecedence: number): LabelFilterExpr {
    this.enter();
    let left = this.parseLabelFilterPrimary();
    for (;;) {
      const t = this.peek();
      let op: 'and' | 'or' | undefined;
      if (t.kind === ',') op = 'and';
      else if (t.kind === 'IDENTIFIER' && (t.text === 'and' || t.text === 'or')) op = t.text;
      else if ((t.kind === 'IDENTIFIER' && FILTER_OPS.has(this.tokens[this.pos + 1]!.kind)) || t.kind === '(') op = undefined;
      else break;
      const precedence = op === 'or' ? 1 : 2;
      if (precedence < minPrecedence) break;
      if (op !== undefined) this.next();
      const right = this.parseLabelFilter(precedence + 1);
      left = { kind: op ?? 'and', left, right };
    }
    this.depth--;
    return left;
  }

  private parseLabelFilterPrimary(): LabelFilterExpr {
    if (this.peek().kind === '(') {
      this.next();
      const inner = this.parseLabelFilter(0);
      this.expect(')');
      return inner;
    }
    const name = this.expect('IDENTIFIER').text;
    const op = this.next();
    if (!FILTER_OPS.has(op.kind)) this.fail(op, 'comparison operator');
    const v = this.next();
    if (v.kind === 'STRING') {
      if (op.kind !== '=' && op.kind !== '!=' && op.kind !== '=~' && op.kind !== '!~') this.fail(v, 'NUMBER or DURATION or BYTES');
      try {
        return { kind: 'string', matcher: newLabelMatcher(name, op.kind as MatchType, v.text) };
      } catch (e) {
        throw asParseError(e);
      }
    }
    if (v.kind === 'IDENTIFIER' && v.text === 'ip') {
      if (op.kind !== '=' && op.kind !== '!=') this.fail(op, 'EQ or NEQ');
      this.expect('(');
      const pattern = this.expect('STRING').text;
      this.expect(')');
      return { kind: 'ip', name, negated: op.kind === '!=', pattern };
    }
    if (op.kind === '=~' || op.kind === '!~') this.fail(v, 'STRING');
    const cmp: ComparisonOp = op.kind === '=' ? '==' : (op.kind as ComparisonOp);
    if (v.kind === 'NUMBER') return { kind: 'number', name, op: cmp, value: Number(v.text), text: v.text };
    if (v.kind === 'DURATION') return { kind: 'duration', name, op: cmp, value: Number(parseGoOrPromDurationNs(v.text)) / 1e9, text: v.text };
    if (v.kind === 'BYTES') return { kind: 'bytes', name, op: cmp, value: parseHumanBytes(v.text) ?? NaN, text: v.text };
    return this.fail(v, 'STRING or NUMBER or DURATION or BYTES');
  }

  private parseUnwrap(): Unwrap {
    let conversion: UnwrapConversion;
    let name = this.expect('IDENTIFIER').text;
    if (this.peek().kind === '(' && (name === 'bytes' || name === 'duration' || name === 'duration_seconds')) {
      conversion = name;
      this.next();
      name = this.expect('IDENTIFIER').text;
      this.expect(')');
    }
    const filters: LabelFilterExpr[] = [];
    while (this.peek().kind === '|') {
      this.next();
      filters.push(this.parseLabelFilter(0));
    }
    return { name, conversion, filters };
  }

  private parseMatchers(): LabelMatcher[] {
    this.expect('{');
    const out: LabelMatcher[] = [];
    if (this.peek().kind === '}') this.fail(this.peek(), 'IDENTIFIER');
    for (;;) {
      const name = this.expect('IDENTIFIER');
      const op = this.next();
      if (op.kind !== '=' && op.kind !== '!=' && op.kind !== '=~' && op.kind !== '!~') this.fail(op, 'EQ or NEQ or RE or NRE');
      const value = this.expect('STRING');
      try {
        out.push(newLabelMatcher(name.text, op.kind as MatchType, value.text));
      } catch (e) {
        throw asParseError(e);
      }
      const sep = this.next();
      if (sep.kind === '}') return out;
      if (sep.kind !== ',') this.fail(sep, ', or }');
    }
  }

  /** `drop a, b="x", c=~"y.*"` / `keep ...` */
  private parseLabelsStage(kind: 'drop' | 'keep'): LabelsStage {
    const labels: LabelSelection[] = [];
    for (;;) {
      const name = this.expect('IDENTIFIER').text;
      let matcher: LabelMatcher | undefined;
      const op = this.peek().kind;
      if (op === '=' || op === '!=' || op === '=~' || op === '!~') {
        this.next();
        const value = this.expect('STRING').text;
        try {
          matcher = newLabelMatcher(name, op as MatchType, value);
        } catch (e) {
          throw asParseError(e);
        }
      }
      labels.push({ name, matcher });
      if (this.peek().kind !== ',') return { kind, labels };
      this.next();
    }
  }

  private parseLineFilter(): LineFilterStage {
    const op = this.next();
    if ((op.kind === '|=' || op.kind === '!=') && this.peek().kind === 'IDENTIFIER' && this.peek().text === 'ip') {
      this.next();
      this.expect('(');
      const value = this.expect('STRING').text;
      this.expect(')');
      return { kind: 'line_filter', op: op.kind, value, or: [], ip: true, offset: op.offset };
    }
    const value = this.expect('STRING');
    const or: string[] = [];
    while (this.peek().kind === 'IDENTIFIER' && this.peek().text === 'or' && this.tokens[this.pos + 1]?.kind === 'STRING') {
      this.next();
      or.push(this.next().text);
    }
    if (op.kind === '|~' || op.kind === '!~') for (const re of [value.text, ...or]) checkRegex(re);
    return { kind: 'line_filter', op: op.kind as LineFilterOp, value: value.text, or, ip: false, offset: op.offset };
  }
}

function parseGoOrPromDurationNs(text: string): bigint {
  return parseDuration(text) ?? 0n;
}

/** Loki's checks of `regexp "..."`: it compiles, and has at least one named capture with a valid name. */
function validateRegexpParser(pattern: string): void {
  checkRegex(pattern);
  const names = [...pattern.matchAll(/\(\?P?<([^>]*)>/g)].map((m) => m[1]!);
  if (names.length === 0) throw new LokiError('bad_data', 'parse_error', 'parse error : at least one named capture must be supplied');
  for (const n of names)
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n)) throw new LokiError('bad_data', 'parse_error', `parse error : invalid extracted label name '${n}'`);
}

/** Loki's RangeAggregationExpr.validate. */
function validateRangeAggregation(op: RangeOp, selector: LogSelectorExpr, grouping: Grouping | undefined): void {
  const fail = (m: string) => {
    throw new ParseError(m, 0, 0);
  };
  if (grouping && !GROUPABLE_RANGE_OPS.has(op)) fail(`grouping not allowed for ${op} aggregation`);
  if (selector.unwrap) {
    if (op !== 'rate' && op !== 'absent_over_time' && LOG_RANGE_OPS.has(op)) fail(`invalid aggregation ${op} with unwrap`);
  } else if (!LOG_RANGE_OPS.has(op)) {
    fail(`invalid aggregation ${op} without unwrap`);
  }
}

/** A regex error as Loki reports it from the parser. */
function asParseError(e: unknown): unknown {
  return e instanceof RegexError ? new LokiError('bad_data', 'parse_error', `parse error : ${e.message}`) : e;
}

/** Loki rejects a line filter's bad regex when the query is parsed, not when it runs. */
function checkRegex(pattern: string): void {
  try {
    compileGoRegex(pattern, false);
  } catch (e) {
    throw asParseError(e);
  }
}

/** Parses and validates a LogQL query. Throws ParseError / LokiError (bad_data) with Loki's wording. */
export function parseQuery(src: string): Expr {
  // Loki counts UTF-8 bytes (Go's len), and its message says `>` also when the size is exactly the limit.
  const size = Buffer.byteLength(src);
  if (size >= MAX_INPUT_SIZE) throw new ParseError(`input size too long (${size} > ${MAX_INPUT_SIZE})`, 0, 0);
  const expr = new Parser(src, tokenize(src)).parseQuery();
  // The parser bounds its own recursion; chains of operators build a deep tree without it.
  if (treeDepth(expr) > MAX_QUERY_DEPTH) throw tooDeep(0, 0);
  forEachSelector(expr, (s) => validateSelector(s.matchers));
  return expr;
}

type Node = Expr | LabelFilterExpr;

function children(node: Node): readonly Node[] {
  switch (node.kind) {
    case 'binary':
      return [node.lhs, node.rhs];
    case 'vector_aggregation':
    case 'label_replace':
      return [node.inner];
    case 'range_aggregation':
      return [node.selector];
    case 'log_selector': {
      const filters: LabelFilterExpr[] = [];
      for (const stage of node.pipeline) if (stage.kind === 'label_filter') filters.push(stage.filter);
      return node.unwrap ? [...filters, ...node.unwrap.filters] : filters;
    }
    case 'and':
    case 'or':
      return [node.left, node.right];
    default:
      return [];
  }
}

/** The number of nodes on the longest path from the root down, label filters included; iterative, so any tree can be measured. */
function treeDepth(root: Expr): number {
  let deepest = 0;
  const stack: Array<{ node: Node; depth: number }> = [{ node: root, depth: 1 }];
  for (let top = stack.pop(); top; top = stack.pop()) {
    deepest = Math.max(deepest, top.depth);
    for (const child of children(top.node)) stack.push({ node: child, depth: top.depth + 1 });
  }
  return deepest;
}

/** Calls `fn` for every log selector in the expression, left to right; iterative, like treeDepth. */
export function forEachSelector(expr: Expr, fn: (s: LogSelectorExpr) => void): void {
  const stack: Node[] = [expr];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.kind === 'log_selector') fn(node);
    else stack.push(...[...children(node)].reverse());
  }
}

/** Parses a bare stream selector (`match[]`, `query` of the label values API). */
export function parseMatchers(src: string): readonly LabelMatcher[] {
  const expr = parseQuery(src);
  if (expr.kind !== 'log_selector' || expr.pipeline.length > 0)
    throw new LokiError('bad_data', 'parse_error', 'parse error : only a stream selector is allowed here');
  return expr.matchers;
}

/** Loki's rule: at least one matcher must not match the empty string, else the query would scan everything. */
export function validateSelector(matchers: readonly LabelMatcher[]): void {
  if (matchers.every(matchesEmpty)) {
    throw new LokiError(
      'bad_data',
      'empty_selector',
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  }
}
