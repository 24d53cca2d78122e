import regenerate from 'regenerate';
import { LokiError } from '../errors.js';
import { addFoldedCase, caseOrbit, unicodeClass } from './unicode.js';

/*
 * A parser of Go's regexp/syntax (the Perl flags regexp.Compile uses) into a small tree whose character sets are
 * already resolved to code points: `(?i)` folded with Unicode's simple case folding, `.` without or with `\n`
 * by `(?s)`, `\d \s \w` and POSIX classes as ASCII sets, `\pL` and `\p{Greek}` from Unicode. The tree says what
 * the pattern means in Go; go-regex.ts turns it into a JavaScript regex. Errors use Go's wording.
 */

export class RegexError extends LokiError {
  constructor(message: string) {
    super('bad_data', 'invalid_regex', message);
  }
}

export type Assertion = 'text_start' | 'text_end' | 'line_start' | 'line_end' | 'word_boundary' | 'not_word_boundary';

export type GoRegexNode =
  /** A literal character: one code point, or under `(?i)` those of its case orbit. */
  | { readonly kind: 'literal'; readonly codePoints: readonly number[] }
  | { readonly kind: 'set'; readonly set: regenerate }
  | { readonly kind: 'assert'; readonly assertion: Assertion }
  | { readonly kind: 'group'; readonly capture: boolean; readonly name: string | undefined; readonly body: GoRegexNode }
  | { readonly kind: 'concat'; readonly items: readonly GoRegexNode[] }
  | { readonly kind: 'alternate'; readonly items: readonly GoRegexNode[] }
  | { readonly kind: 'repeat'; readonly min: number; readonly max: number; readonly greedy: boolean; readonly body: GoRegexNode };

/** `max` of a repetition without an upper bound. */
export const UNBOUNDED = -1;

/** Go's limits: a repeat count, and the nesting of groups and repetitions. */
const MAX_REPEAT = 1000;
const MAX_NESTING = 1000;

interface Flags {
  foldCase: boolean; // i
  multiLine: boolean; // m
  dotAll: boolean; // s
  ungreedy: boolean; // U
}

const ASCII_CLASSES: Readonly<Record<string, readonly number[]>> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0, 0x7f],
  blank: [9, 9, 0x20, 0x20],
  cntrl: [0, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [9, 0xd, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};

/** Perl's classes as Go defines them: ASCII only (`\s` is `[\t\n\f\r ]`, without `\v`). */
const PERL_CLASSES: Readonly<Record<string, readonly number[]>> = {
  d: ASCII_CLASSES.digit!,
  s: [9, 0xa, 0xc, 0xd, 0x20, 0x20],
  w: ASCII_CLASSES.word!,
};

const ESCAPED_CONTROLS: Readonly<Record<string, number>> = { a: 7, f: 0xc, t: 9, n: 0xa, r: 0xd, v: 0xb };

function rangesSet(ranges: readonly number[]): regenerate {
  const set = regenerate();
  for (let i = 0; i < ranges.length; i += 2) set.addRange(ranges[i]!, ranges[i + 1]!);
  return set;
}

/** regenerate writes the empty set as `[]`, a class that matches nothing. */
export function isEmptySet(set: regenerate): boolean {
  return set.toString() === '[]';
}

function complement(set: regenerate): regenerate {
  return regenerate().addRange(0, 0x10ffff).remove(set);
}

/** Parses a Go regex; throws RegexError with Go's message. */
export function parseGoRegex(pattern: string): GoRegexNode {
  return new GoRegexParser(pattern).parse();
}

class GoRegexParser {
  private pos = 0;
  private depth = 0;
  private readonly names = new Set<string>();

  constructor(private readonly src: string) {}

  parse(): GoRegexNode {
    const node = this.alternation({ foldCase: false, multiLine: false, dotAll: false, ungreedy: false });
    if (this.pos < this.src.length) throw this.error('unexpected )', this.src);
    return node;
  }

  private error(code: string, expr: string): RegexError {
    return new RegexError(`error parsing regexp: ${code}: \`${expr}\``);
  }

  /** Alternatives up to a `)` or the end. Flags set by `(?i)` inside hold until the group closes. */
  private alternation(outer: Flags): GoRegexNode {
    const flags = { ...outer };
    const items = [this.concatenation(flags)];
    while (this.src[this.pos] === '|') {
      this.pos++;
      items.push(this.concatenation(flags));
    }
    return items.length === 1 ? items[0]! : { kind: 'alternate', items };
  }

  private concatenation(flags: Flags): GoRegexNode {
    const items: GoRegexNode[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      const start = this.pos;
      const atom = this.atom(flags);
      if (atom === undefined) continue; // a flag group such as (?i)
      items.push(this.repetition(atom, start, flags));
    }
    return items.length === 1 ? items[0]! : { kind: 'concat', items };
  }

  private repetition(atom: GoRegexNode, atomStart: number, flags: Flags): GoRegexNode {
    let node = atom;
    let repeatStart = -1;
    for (;;) {
      const opStart = this.pos;
      const bounds = this.repeatOperator();
      if (bounds === undefined) return node;
      if (repeatStart >= 0) throw this.error('invalid nested repetition operator', this.src.slice(repeatStart, this.pos));
      repeatStart = opStart;
      let greedy = true;
      if (this.src[this.pos] === '?') {
        greedy = false;
        this.pos++;
      }
      if (flags.ungreedy) greedy = !greedy;
      const [min, max] = bounds;
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== UNBOUNDED && max < min)) throw this.error('invalid repeat count', this.src.slice(opStart, this.pos));
      node = { kind: 'repeat', min, max, greedy, body: node };
      if (repeatSize(node) > MAX_REPEAT) throw this.error('invalid repeat count', this.src.slice(atomStart, this.pos));
    }
  }

  /** `*`, `+`, `?` or `{n}`, `{n,}`, `{n,m}` at pos: its bounds, consumed; undefined when there is none. */
  private repeatOperator(): [number, number] | undefined {
    const c = this.src[this.pos];
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      return c === '*' ? [0, UNBOUNDED] : c === '+' ? [1, UNBOUNDED] : [0, 1];
    }
    if (c !== '{') return undefined;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
    if (!m) return undefined; // Go reads a `{` that starts no repeat as a literal
    this.pos += m[0].length;
    const min = parseCount(m[1]!);
    return [min, m[2] === undefined ? min : m[3] === '' ? UNBOUNDED : parseCount(m[3]!)];
  }

  /** One atom, or undefined for a flag group that only changes `flags`. */
  private atom(flags: Flags): GoRegexNode | undefined {
    const c = this.src[this.pos]!;
    switch (c) {
      case '(':
        return this.group(flags);
      case '[':
        return { kind: 'set', set: this.characterClass(flags) };
      case '.': {
        this.pos++;
        const all = regenerate().addRange(0, 0x10ffff);
        return { kind: 'set', set: flags.dotAll ? all : all.remove(0xa) };
      }
      case '^':
        this.pos++;
        return { kind: 'assert', assertion: flags.multiLine ? 'line_start' : 'text_start' };
      case '$':
        this.pos++;
        return { kind: 'assert', assertion: flags.multiLine ? 'line_end' : 'text_end' };
      case '*':
      case '+':
      case '?':
        throw this.error('missing argument to repetition operator', c);
      case '{': {
        const start = this.pos;
        if (this.repeatOperator()) throw this.error('missing argument to repetition operator', this.src.slice(start, this.pos));
        this.pos++;
        return this.literal(0x7b, flags);
      }
      case '\\':
        return this.escape(flags);
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return this.literal(cp, flags);
      }
    }
  }

  private literal(cp: number, flags: Flags): GoRegexNode {
    return { kind: 'literal', codePoints: flags.foldCase ? caseOrbit(cp) : [cp] };
  }

  private group(flags: Flags): GoRegexNode | undefined {
    const start = this.pos;
    this.pos++;
    let capture = true;
    let name: string | undefined;
    let inner = flags;
    if (this.src[this.pos] === '?') {
      const rest = this.src.slice(this.pos + 1);
      const named = /^P?<([^>]*)>/.exec(rest);
      if (named || rest.startsWith('P<')) {
        name = named?.[1];
        if (name === undefined || !/^[A-Za-z0-9_]+$/.test(name))
          throw this.error('invalid named capture', this.src.slice(start, named ? this.pos + 1 + named[0].length : undefined));
        if (this.names.has(name)) throw this.error('duplicate capture group name', name);
        this.names.add(name);
        this.pos += 1 + named![0].length;
      } else {
        const m = /^([imsU]*(?:-[imsU]*)?)([:)])/.exec(rest);
        if (!m && /^[imsU-]*$/.test(rest)) throw this.error('missing closing )', this.src);
        if (!m || (m[1] === '' && m[2] === ')') || m[1]!.endsWith('-'))
          throw this.error('invalid or unsupported Perl syntax', this.src.slice(start, this.pos + 2));
        this.pos += 1 + m[0].length;
        inner = withFlags(flags, m[1]!);
        if (m[2] === ')') {
          Object.assign(flags, inner); // (?i) holds to the end of the enclosing group
          return undefined;
        }
        capture = false;
      }
    }
    if (++this.depth > MAX_NESTING) throw this.error('expression nests too deeply', this.src);
    const body = this.alternation(inner);
    this.depth--;
    if (this.src[this.pos] !== ')') throw this.error('missing closing )', this.src);
    this.pos++;
    return { kind: 'group', capture, name, body };
  }

  private escape(flags: Flags): GoRegexNode | undefined {
    const start = this.pos;
    const c = this.src[this.pos + 1];
    if (c === undefined) throw this.error('trailing backslash at end of expression', '');
    switch (c) {
      case 'A':
      case 'z':
        this.pos += 2;
        return { kind: 'assert', assertion: c === 'A' ? 'text_start' : 'text_end' };
      case 'b':
      case 'B':
        this.pos += 2;
        return { kind: 'assert', assertion: c === 'b' ? 'word_boundary' : 'not_word_boundary' };
      case 'Q': {
        const end = this.src.indexOf('\\E', start + 2);
        const text = this.src.slice(start + 2, end < 0 ? undefined : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        const items = [...text].map((ch) => this.literal(ch.codePointAt(0)!, flags));
        return items.length === 1 ? items[0]! : { kind: 'concat', items };
      }
      default: {
        const set = this.classEscape(flags);
        if (set) return { kind: 'set', set };
        return this.literal(this.charEscape(), flags);
      }
    }
  }

  /** `\d \D \s \S \w \W \pL \p{..} \PL \P{..}` at pos, consumed; undefined for any other escape. */
  private classEscape(flags: Flags): regenerate | undefined {
    const start = this.pos;
    const c = this.src[this.pos + 1]!;
    let set: regenerate;
    let negated: boolean;
    const perl = PERL_CLASSES[c.toLowerCase()];
    if (perl) {
      this.pos += 2;
      set = rangesSet(perl);
      negated = c !== c.toLowerCase();
    } else if (c === 'p' || c === 'P') {
      const m = /^\{(\^?)([^}]*)\}|^./su.exec(this.src.slice(start + 2));
      if (!m) throw this.error('invalid character class range', this.src.slice(start));
      this.pos = start + 2 + m[0].length;
      const name = m[2] ?? m[0];
      const found = unicodeClass(name);
      if (!found) throw this.error('invalid character class range', this.src.slice(start, this.pos));
      set = found;
      negated = (c === 'P') !== (m[1] === '^');
    } else return undefined;
    if (flags.foldCase) set = addFoldedCase(set);
    return negated ? complement(set) : set;
  }

  /** A single-character escape at pos (`\n`, `\x41`, `\x{1F600}`, `\101`, `\.`), consumed. */
  private charEscape(): number {
    const start = this.pos;
    const c = this.src[this.pos + 1]!;
    this.pos += 2;
    if (c in ESCAPED_CONTROLS) return ESCAPED_CONTROLS[c]!;
    if (c >= '0' && c <= '7') {
      // A lone non-zero digit would be a back-reference, which RE2 does not have; \0, \12, \101 are octal.
      const m = /^[0-7]{1,2}/.exec(this.src.slice(this.pos));
      if (c !== '0' && !m) throw this.error('invalid escape sequence', this.src.slice(start, this.pos));
      if (m) this.pos += m[0].length;
      return parseInt(c + (m?.[0] ?? ''), 8);
    }
    if (c === 'x') {
      const m = /^\{([0-9A-Fa-f]{1,8})\}|^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.pos));
      const value = m ? parseInt(m[1] ?? m[0], 16) : NaN;
      if (!m || value > 0x10ffff) throw this.error('invalid escape sequence', this.src.slice(start, this.pos + (m?.[0].length ?? 0)));
      this.pos += m[0].length;
      return value;
    }
    if (c < '\x80' && !/[0-9A-Za-z]/.test(c)) return c.charCodeAt(0);
    const cp = this.src.codePointAt(start + 1)!;
    this.pos = start + 1 + (cp > 0xffff ? 2 : 1);
    throw this.error('invalid escape sequence', this.src.slice(start, this.pos));
  }

  /** `[...]`: ranges, escapes, Perl, POSIX and Unicode classes; under `(?i)` folded before a `^` negates it. */
  private characterClass(flags: Flags): regenerate {
    const start = this.pos;
    this.pos++;
    const negated = this.src[this.pos] === '^';
    if (negated) this.pos++;
    let set = regenerate();
    let first = true;
    while (first || this.src[this.pos] !== ']') {
      if (this.pos >= this.src.length) throw this.error('missing closing ]', this.src.slice(start));
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      if (posix) {
        const ranges = ASCII_CLASSES[posix[2]!];
        if (!ranges) throw this.error('invalid character class range', posix[0]);
        this.pos += posix[0].length;
        set.add(posix[1] ? complement(rangesSet(ranges)) : rangesSet(ranges));
        continue;
      }
      if (this.src[this.pos] === '\\') {
        if (this.pos + 1 >= this.src.length) throw this.error('trailing backslash at end of expression', '');
        const inner = this.classEscape({ ...flags, foldCase: false });
        if (inner) {
          set.add(inner);
          continue;
        }
      }
      const rangeStart = this.pos;
      const lo = this.classChar();
      let hi = lo;
      if (this.src[this.pos] === '-' && this.pos + 1 < this.src.length && this.src[this.pos + 1] !== ']') {
        this.pos++;
        hi = this.classChar();
        if (hi < lo) throw this.error('invalid character class range', this.src.slice(rangeStart, this.pos));
      }
      set.addRange(lo, hi);
    }
    this.pos++;
    if (flags.foldCase) set = addFoldedCase(set);
    return negated ? complement(set) : set;
  }

  private classChar(): number {
    if (this.src[this.pos] === '\\') return this.charEscape();
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

function parseCount(digits: string): number {
  // Go caps a count at 1000; longer digit strings are just as invalid.
  return digits.length > 4 ? MAX_REPEAT + 1 : Number(digits);
}

/** The flags after `(?i-s)` and the like. */
function withFlags(flags: Flags, spec: string): Flags {
  const out = { ...flags };
  let on = true;
  for (const f of spec) {
    if (f === '-') on = false;
    else if (f === 'i') out.foldCase = on;
    else if (f === 'm') out.multiLine = on;
    else if (f === 's') out.dotAll = on;
    else out.ungreedy = on;
  }
  return out;
}

/**
 * The largest product, over the tree's nestings of repetitions, of what `count` says each repetition
 * makes of its operand (at least 1 for a tree without repetitions).
 */
export function repeatProduct(node: GoRegexNode, count: (min: number, max: number) => number): number {
  switch (node.kind) {
    case 'repeat':
      return count(node.min, node.max) * repeatProduct(node.body, count);
    case 'group':
      return repeatProduct(node.body, count);
    case 'concat':
    case 'alternate':
      return Math.max(1, ...node.items.map((item) => repeatProduct(item, count)));
    default:
      return 1;
  }
}

/** The copies a counted repetition makes, nested ones multiplied, as Go's parser checks it. */
function repeatSize(node: GoRegexNode): number {
  return repeatProduct(node, (min, max) => Math.max(max === UNBOUNDED ? min : max, 1));
}
