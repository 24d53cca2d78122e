import { formatFloat, formatGoDuration, formatGoFloat, formatPromDuration, formatSIBytes, goQuote, type LabelMatcher } from '@loki-lite/shared';
import type {
  BinaryExpr,
  Expr,
  Grouping,
  LabelFilterExpr,
  LineFilterStage,
  LogSelectorExpr,
  PipelineStage,
  RangeAggregationExpr,
  SampleExpr,
  Unwrap,
  VectorAggregationExpr,
} from './ast.js';

/*
 * LogQL back to text as Loki prints it: `exprString` is Loki's String() (the canonical one-line form), and
 * `prettify` is /loki/api/v1/format_query's layout: anything up to 100 characters stays on one line,
 * longer expressions are split with two-space indentation, one pipeline stage per line.
 */

const MAX_CHARS_PER_LINE = 100;
const indent = (level: number) => '  '.repeat(level);

const matcherString = (m: LabelMatcher) => `${m.name}${m.type}${goQuote(m.value)}`;
const selectorString = (matchers: readonly LabelMatcher[]) => `{${matchers.map(matcherString).join(', ')}}`;

function lineFilterString(f: LineFilterStage): string {
  const value = (v: string) => (f.ip ? `ip(${goQuote(v)})` : goQuote(v));
  return [`${f.op} ${value(f.value)}`, ...f.or.map((v) => `or ${value(v)}`)].join(' ');
}

function labelFilterString(f: LabelFilterExpr): string {
  switch (f.kind) {
    case 'and':
      return `( ${labelFilterString(f.left)} , ${labelFilterString(f.right)} )`;
    case 'or':
      return `( ${labelFilterString(f.left)} or ${labelFilterString(f.right)} )`;
    case 'string':
      return matcherString(f.matcher);
    case 'ip':
      return `${f.name}${f.negated ? '!=' : '='}ip(${goQuote(f.pattern)})`;
    case 'number':
      return `${f.name}${f.op}${formatFloat(f.value)}`;
    case 'duration':
      return `${f.name}${f.op}${formatGoDuration(BigInt(Math.round(f.value * 1e9)))}`;
    case 'bytes':
      return `${f.name}${f.op}${formatSIBytes(f.value, '')}`;
  }
}

const extractions = (params: ReadonlyArray<{ name: string; expression: string }>) => params.map((p) => `${p.name}=${goQuote(p.expression)}`).join(',');

function stageString(s: PipelineStage): string {
  switch (s.kind) {
    case 'line_filter':
      return lineFilterString(s);
    case 'json':
      return s.params.length > 0 ? `| json ${extractions(s.params)}` : '| json';
    case 'logfmt': {
      const flags = `${s.strict ? ' --strict' : ''}${s.keepEmpty ? ' --keep-empty' : ''}`;
      return `| logfmt${flags}${s.params.length > 0 ? ` ${extractions(s.params)}` : ''}`;
    }
    case 'regexp':
      return `| regexp ${goQuote(s.pattern)}`;
    case 'pattern':
      return `| pattern ${goQuote(s.pattern)}`;
    case 'unpack':
      return '| unpack';
    case 'decolorize':
      return '| decolorize';
    case 'line_format':
      return `| line_format ${goQuote(s.template)}`;
    case 'label_format':
      return `| label_format ${s.formats.map((f) => `${f.name}=${f.rename ?? goQuote(f.template!)}`).join(',')}`;
    case 'drop':
    case 'keep':
      return `| ${s.kind} ${s.labels.map((l) => (l.matcher ? matcherString(l.matcher) : l.name)).join(',')}`;
    case 'label_filter':
      return `| ${labelFilterString(s.filter)}`;
  }
}

function unwrapString(u: Unwrap): string {
  const head = u.conversion ? `| unwrap ${u.conversion}(${u.name})` : `| unwrap ${u.name}`;
  return [head, ...u.filters.map((f) => `| ${labelFilterString(f)}`)].join(' ');
}

function selectorWithPipeline(e: LogSelectorExpr): string {
  return [selectorString(e.matchers), ...e.pipeline.map(stageString)].join(' ');
}

/** ` by(a,b)` / ` without(a)`, as Loki's Grouping.String() writes it. */
function groupingString(g: Grouping | undefined): string {
  if (!g) return '';
  if (!g.without && g.labels.length === 0) return '';
  return `${g.without ? ' without' : ' by'}${g.labels.length > 0 ? `(${g.labels.join(',')})` : ''}`;
}

function rangeString(e: RangeAggregationExpr): string {
  const left = `${selectorWithPipeline(e.selector)}${e.selector.unwrap ? ` ${unwrapString(e.selector.unwrap)}` : ''}[${formatPromDuration(e.range)}]`;
  const offset = e.offset !== 0n ? ` offset ${formatGoDuration(e.offset)}` : '';
  const param = e.param !== undefined ? `${formatFloat(e.param)},` : '';
  return `${e.op}(${param}${left}${offset})${groupingString(e.grouping)}`;
}

function vectorString(e: VectorAggregationExpr, print: Printer): string {
  const params = e.param !== undefined ? `${e.param},${print(e.inner)}` : print(e.inner);
  return `${e.op}${groupingString(e.grouping)}(${params})`;
}

function binaryOp(e: BinaryExpr, spaced: boolean): string {
  let op: string = e.op;
  if (e.returnBool) op += ' bool';
  const m = e.matching;
  if (m && (m.on || m.labels.length > 0)) {
    const sep = spaced ? ', ' : ',';
    let group = m.group === 'left' ? 'group_left' : m.group === 'right' ? 'group_right' : '';
    if (m.include.length > 0) group = `${group} (${m.include.join(sep)})`;
    op = `${op} ${m.on ? 'on' : 'ignoring'} (${m.labels.join(sep)}) ${group}`;
  }
  return op;
}

/** Prints a subexpression in the one-line form. */
type Printer = (e: Expr) => string;

/** The one-line form of `e`, its subexpressions printed by `print`. */
function oneLine(e: Expr, print: Printer): string {
  switch (e.kind) {
    case 'log_selector':
      return selectorWithPipeline(e);
    case 'number':
      return formatGoFloat(e.value);
    case 'vector':
      return `vector(${e.value.toFixed(6)})`;
    case 'binary':
      return `(${print(e.lhs)} ${binaryOp(e, false)} ${print(e.rhs)})`;
    case 'range_aggregation':
      return rangeString(e);
    case 'vector_aggregation':
      return vectorString(e, print);
    case 'label_replace':
      return `label_replace(${print(e.inner)},${[e.dst, e.replacement, e.src, e.regex].map(goQuote).join(',')})`;
  }
}

/** Loki's String(): the canonical one-line form. */
export function exprString(e: Expr): string {
  return oneLine(e, exprString);
}

/** ` by (a, b)`: the pretty form of a grouping. */
function prettyGrouping(g: Grouping | undefined): string {
  if (!g || (!g.without && g.labels.length === 0)) return '';
  return `${g.without ? ' without' : ' by'}${g.labels.length > 0 ? ` (${g.labels.join(', ')})` : ''}`;
}

/*
 * The layout is built as a list of lines, and each subexpression's one-line form (which decides whether
 * it fits on a line) is printed once and reused by its parent: printed afresh at every level, and each
 * level's text wrapped around its child's, a chain of a thousand operators took seconds to lay out.
 */
class PrettyPrinter {
  readonly lines: string[] = [];
  private readonly printed = new Map<Expr, string>();
  private readonly print: Printer = (e) => {
    let s = this.printed.get(e);
    if (s === undefined) this.printed.set(e, (s = oneLine(e, this.print)));
    return s;
  };

  private push(level: number, text: string): void {
    this.lines.push(indent(level) + text);
  }

  /** Adds `text` to the end of the last line. */
  private append(text: string): void {
    this.lines[this.lines.length - 1] += text;
  }

  private selector(e: LogSelectorExpr, level: number): void {
    const one = this.print(e);
    if (one.length <= MAX_CHARS_PER_LINE) return this.push(level, one);
    this.push(level, selectorString(e.matchers));
    for (const s of e.pipeline) this.push(level + 1, stageString(s));
  }

  expr(e: Expr, level: number): void {
    const one = this.print(e);
    if (one.length <= MAX_CHARS_PER_LINE || e.kind === 'number' || e.kind === 'vector') return this.push(level, one);
    switch (e.kind) {
      case 'log_selector':
        return this.selector(e, level);
      case 'range_aggregation': {
        this.push(level, `${e.op}(`);
        if (e.param !== undefined) this.push(level + 1, `${formatGoFloat(e.param)},`);
        this.selector(e.selector, level + 1);
        if (e.selector.unwrap) this.push(level + 2, unwrapString(e.selector.unwrap).replaceAll(' | ', `\n${indent(level + 2)}| `));
        this.append(` [${formatPromDuration(e.range)}]`);
        if (e.offset !== 0n) this.append(` offset ${formatPromDuration(e.offset)}`);
        return this.push(level, `)${prettyGrouping(e.grouping)}`);
      }
      case 'vector_aggregation':
        this.push(level, `${e.op}${prettyGrouping(e.grouping)}(`);
        if (e.param !== undefined) this.push(level + 1, `${e.param},`);
        this.expr(e.inner, level + 1);
        return this.push(level, ')');
      case 'binary':
        this.expr(e.lhs, level + 1);
        this.push(level, binaryOp(e, true));
        return this.expr(e.rhs, level + 1);
      case 'label_replace': {
        this.push(level, 'label_replace(');
        this.expr(e.inner, level + 1);
        this.append(',');
        const args = [e.dst, e.replacement, e.src, e.regex];
        args.forEach((arg, i) => this.push(level + 1, goQuote(arg) + (i < args.length - 1 ? ',' : '')));
        return this.push(level, ')');
      }
    }
  }
}

/** /loki/api/v1/format_query's answer for a parsed query. */
export function prettify(e: Expr | SampleExpr): string {
  const printer = new PrettyPrinter();
  printer.expr(e, 0);
  return printer.lines.join('\n');
}
