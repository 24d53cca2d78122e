import { LokiError } from '@loki-lite/shared';

/*
 * A parser for the part of Go's text/template that line_format and label_format templates use: text,
 * actions with pipelines (`.field`, `.`, literals, function calls, parentheses, `|`), variables (`$x :=`,
 * `$`), comments, trim markers (`{{-`, `-}}`), and if / else if / else / with / range / end.
 */

export type Arg =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'dot' }
  | { readonly kind: 'var'; readonly name: string; readonly path: readonly string[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly isInt: boolean }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'nil' }
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'pipeline'; readonly pipeline: Pipeline };

/** `a b c`: a function call with arguments, or a single value. */
export interface Command {
  readonly args: readonly Arg[];
}

export interface Pipeline {
  readonly decl: string | undefined;
  readonly commands: readonly Command[];
}

export type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly pipeline: Pipeline }
  | { readonly kind: 'if' | 'with' | 'range'; readonly pipeline: Pipeline; readonly then: readonly Node[]; readonly otherwise: readonly Node[] };

/**
 * How deeply parenthesized pipelines and if/with/range blocks may nest, together. Go's parser stops
 * parentheses at 10,000 levels ("max expression depth exceeded") and lets blocks nest as deep as its
 * growable stacks allow; parsing and running a template recurse here, so both count, and the limit is
 * lower than Go's, as far below the stack's as LogQL's own (MAX_QUERY_DEPTH).
 */
export const MAX_TEMPLATE_DEPTH = 1000;

export class TemplateError extends LokiError {
  constructor(message: string) {
    super('bad_data', 'template_error', message);
  }
}

interface Token {
  kind: 'text' | 'action';
  text: string;
}

/** Splits the template into text and action tokens, applying trim markers. */
function split(src: string, name: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ kind: 'text', text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text !== '') out.push({ kind: 'text', text });
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError(`template: ${name}:1: unclosed action`);
    let end = close;
    let next = close + 2;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) {
      end = close - 1;
      while (next < src.length && /\s/.test(src[next]!)) next++;
    }
    out.push({ kind: 'action', text: src.slice(start, end).trim() });
    i = next;
  }
  return out;
}

/** The `}}` closing an action, skipping quoted strings. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"') {
      for (i++; i < src.length && src[i] !== '"'; i++) if (src[i] === '\\') i++;
    } else if (c === '`') {
      i = src.indexOf('`', i + 1);
      if (i < 0) return -1;
    } else if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

/** Lexes the inside of an action into words. */
function words(action: string, name: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'|:=|\||\(|\)|[^\s|()"`]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < action.length && (m = re.exec(action))) {
    out.push(m[1]!);
    pos = re.lastIndex;
    if (/^\s*$/.test(action.slice(pos))) break;
  }
  if (pos < action.length && !/^\s*$/.test(action.slice(pos)))
    throw new TemplateError(`template: ${name}:1: unexpected "${action.slice(pos).trim()}" in command`);
  return out;
}

class ActionParser {
  private i = 0;
  /** `depth`: the nesting of the block the action is in. */
  constructor(
    private readonly w: string[],
    private readonly name: string,
    private depth: number,
  ) {}

  pipeline(): Pipeline {
    let decl: string | undefined;
    if (this.w[this.i]?.startsWith('$') && this.w[this.i + 1] === ':=') {
      decl = this.w[this.i]!;
      this.i += 2;
    }
    const commands: Command[] = [this.command()];
    while (this.w[this.i] === '|') {
      this.i++;
      commands.push(this.command());
    }
    return { decl, commands };
  }

  private command(): Command {
    const args: Arg[] = [];
    while (this.i < this.w.length && this.w[this.i] !== '|' && this.w[this.i] !== ')') args.push(this.arg());
    if (args.length === 0) throw new TemplateError(`template: ${this.name}:1: missing value for command`);
    return { args };
  }

  private arg(): Arg {
    const t = this.w[this.i++]!;
    if (t === '(') {
      if (++this.depth > MAX_TEMPLATE_DEPTH) throw tooDeep(this.name);
      const pipeline = this.pipeline();
      if (this.w[this.i++] !== ')') throw new TemplateError(`template: ${this.name}:1: unclosed left paren`);
      this.depth--;
      return { kind: 'pipeline', pipeline };
    }
    if (t.startsWith('"')) return { kind: 'string', value: unquoteGo(t, this.name) };
    if (t.startsWith('`')) return { kind: 'string', value: t.slice(1, -1) };
    if (t.startsWith("'")) return { kind: 'number', value: unquoteGo(`"${t.slice(1, -1)}"`, this.name).codePointAt(0) ?? 0, isInt: true };
    if (t === '.') return { kind: 'dot' };
    if (t.startsWith('.')) return { kind: 'field', path: t.slice(1).split('.') };
    if (t.startsWith('$')) {
      const [v, ...path] = t.split('.');
      return { kind: 'var', name: v!, path };
    }
    if (t === 'true' || t === 'false') return { kind: 'bool', value: t === 'true' };
    if (t === 'nil') return { kind: 'nil' };
    if (/^[+-]?(\d|\.\d)/.test(t)) {
      const value = Number(t);
      if (Number.isNaN(value)) throw new TemplateError(`template: ${this.name}:1: bad number syntax: "${t}"`);
      // Go parses a number no float64 holds (1e400, 0x and 300 digits) to an error, not to an infinity.
      if (!Number.isFinite(value)) throw new TemplateError(`template: ${this.name}:1: illegal number syntax: "${t}"`);
      return { kind: 'number', value, isInt: /^[+-]?(0x[0-9a-f]+|\d+)$/i.test(t) };
    }
    return { kind: 'ident', name: t };
  }

  done(): boolean {
    return this.i >= this.w.length;
  }
}

const tooDeep = (name: string) => new TemplateError(`template: ${name}:1: max expression depth exceeded`);

function unquoteGo(quoted: string, name: string): string {
  try {
    return JSON.parse(
      quoted
        .replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')
        .replace(/\\a/g, '\\u0007')
        .replace(/\\v/g, '\\u000b'),
    ) as string;
  } catch {
    throw new TemplateError(`template: ${name}:1: invalid syntax`);
  }
}

/** Parses a template into nodes. Errors read like Go's: `template: line:1: ...`. */
export function parseTemplate(src: string, name: string): Node[] {
  const tokens = split(src, name);
  let pos = 0;
  let depth = 0;
  const parseList = (terminators: ReadonlySet<string>): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      if (t.text.startsWith('/*')) continue; // comment
      const keyword = /^(if|with|range|else|end)\b/.exec(t.text)?.[1];
      if (keyword === 'end' || keyword === 'else') {
        if (!terminators.has(keyword)) throw new TemplateError(`template: ${name}:1: unexpected {{${keyword}}}`);
        return { nodes, end: t.text };
      }
      if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
        nodes.push(parseControl(keyword, t.text.slice(keyword.length)));
        continue;
      }
      nodes.push({ kind: 'action', pipeline: parseAction(t.text) });
    }
    if (terminators.size > 0) throw new TemplateError(`template: ${name}:1: unexpected EOF`);
    return { nodes, end: '' };
  };
  const parseAction = (text: string): Pipeline => {
    const p = new ActionParser(words(text, name), name, depth);
    const pipeline = p.pipeline();
    if (!p.done()) throw new TemplateError(`template: ${name}:1: unexpected ")" in operand`);
    return pipeline;
  };
  const parseControl = (kind: 'if' | 'with' | 'range', rest: string): Node => {
    if (++depth > MAX_TEMPLATE_DEPTH) throw tooDeep(name);
    const pipeline = parseAction(rest);
    const body = parseList(new Set(['else', 'end']));
    let otherwise: Node[] = [];
    if (body.end.startsWith('else')) {
      const elseRest = body.end.slice(4).trim();
      if (elseRest.startsWith('if ') || elseRest.startsWith('with ')) {
        // `else if x` is `else` holding an `if` that shares this block's `end`.
        const inner = elseRest.startsWith('if ') ? 'if' : 'with';
        otherwise = [parseControl(inner, elseRest.slice(inner.length))];
      } else {
        otherwise = parseList(new Set(['end'])).nodes;
      }
    }
    depth--;
    return { kind, pipeline, then: body.nodes, otherwise };
  };
  return parseList(new Set()).nodes;
}
