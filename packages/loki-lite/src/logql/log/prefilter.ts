import type { LabelFilterExpr, PipelineStage } from '../syntax/ast.js';

/*
 * A test on a line's raw bytes that every line the pipeline keeps must pass, so a chunk reader can skip
 * the others without making a string or an entry of them. It only uses stages that run before any stage
 * that rewrites the line, and only conditions that are certain: a `|=` literal must occur, a `!=` literal
 * must not, a `|~` regex's required literal (one that every match contains) must occur; and after a
 * parser, `| name="value"` needs the value in the line, unless the name is one of the stream's labels,
 * the line has structured metadata, or the line has a backslash (an escaped value).
 */

/**
 * Tests the lines of a buffer (a decompressed block) on their bytes; `keeps` false means the pipeline would
 * drop the line. Lines must be given in increasing offset order, with `reset` before each new buffer: the
 * filter remembers where each literal next occurs, so it searches the buffer once per occurrence instead of
 * once per line (most lines of a selective query contain none of them, and cost a comparison).
 */
export interface BytePrefilter {
  reset(): void;
  keeps(buf: Buffer, start: number, end: number, hasMetadata: boolean): boolean;
}

/** The next occurrence of one needle at or after the last line asked about. */
class Occurrence implements Needle {
  /** Offset of the next occurrence, or the buffer's length when there is none; -1 before the first search. */
  private at = -1;

  constructor(private readonly needle: Buffer | number) {}

  reset(): void {
    this.at = -1;
  }

  /**
   * Whether buf[start, end) contains the needle. An occurrence found earlier at or after `start` is the
   * first one there, so when it does not end inside the line, no other occurrence is inside either.
   */
  inLine(buf: Buffer, start: number, end: number): boolean {
    if (this.at < start) {
      const found = buf.indexOf(this.needle, start);
      this.at = found < 0 ? buf.length : found;
    }
    return this.at + (typeof this.needle === 'number' ? 1 : this.needle.length) <= end;
  }
}

/** Something searched for in a buffer's lines, given in increasing offset order (see BytePrefilter). */
interface Needle {
  reset(): void;
  inLine(buf: Buffer, start: number, end: number): boolean;
}

/** Any of several needles (`|= "a" or "b"`, `|~ "a|b"`). */
class AnyOccurrence implements Needle {
  constructor(private readonly needles: readonly Needle[]) {}

  reset(): void {
    for (const n of this.needles) n.reset();
  }

  inLine(buf: Buffer, start: number, end: number): boolean {
    // Every needle is asked about every line, so each one's next occurrence stays current.
    let found = false;
    for (let i = 0; i < this.needles.length; i++) if (this.needles[i]!.inLine(buf, start, end)) found = true;
    return found;
  }
}

/** Letters from the most to the least frequent in English-like text: the rarest one anchors a caseless search. */
const LETTER_FREQUENCY = 'etaoinshrdlcumwfgypbvkjxqz';

/**
 * The next occurrence of an ASCII literal in any case (`(?i)`), found like Occurrence does: its rarest
 * byte is searched for in both cases with indexOf, and the rest compared around it, byte by byte.
 */
class CaselessOccurrence implements Needle {
  private at = -1;
  private readonly lower: Buffer;
  /** Index in the literal of the byte searched for, and that byte in either case. */
  private readonly anchor: number;
  private readonly anchorLower: number;
  private readonly anchorUpper: number;

  constructor(literal: string) {
    this.lower = Buffer.from(literal.toLowerCase());
    let anchor = 0;
    let rank = -1;
    for (let i = 0; i < literal.length; i++) {
      // A byte that is not a letter has one case: best of all; else the rarest letter.
      const r = LETTER_FREQUENCY.indexOf(literal[i]!.toLowerCase());
      const score = r < 0 ? 100 : r;
      if (score > rank) {
        rank = score;
        anchor = i;
      }
    }
    this.anchor = anchor;
    this.anchorLower = this.lower[anchor]!;
    this.anchorUpper = literal[anchor]!.toUpperCase().charCodeAt(0);
  }

  reset(): void {
    this.at = -1;
  }

  inLine(buf: Buffer, start: number, end: number): boolean {
    if (this.at < start) this.at = this.find(buf, start);
    return this.at + this.lower.length <= end;
  }

  /** The first occurrence starting at or after `from`, or the buffer's length. */
  private find(buf: Buffer, from: number): number {
    const n = this.lower.length;
    for (let pos = from + this.anchor; ;) {
      const lo = buf.indexOf(this.anchorLower, pos);
      const up = this.anchorUpper === this.anchorLower ? -1 : buf.indexOf(this.anchorUpper, pos);
      const hit = lo < 0 ? up : up < 0 ? lo : Math.min(lo, up);
      if (hit < 0) return buf.length;
      const begin = hit - this.anchor;
      if (begin + n <= buf.length && this.matchesAt(buf, begin)) return begin;
      pos = hit + 1;
    }
  }

  private matchesAt(buf: Buffer, begin: number): boolean {
    for (let i = 0; i < this.lower.length; i++) {
      const c = buf[begin + i]!;
      // ASCII upper case to lower; the literal is ASCII, so a non-ASCII byte never matches
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== this.lower[i]) return false;
    }
    return true;
  }
}

/** Literals one of which every match of a regex contains, and whether they match case-insensitively. */
export interface RequiredLiterals {
  readonly anyOf: readonly string[];
  /** The regex starts with (?i): the literals are lower case and match in any case (ASCII only). */
  readonly caseless: boolean;
}

/** Escapes of a letter that stand for a class or an assertion: they match no literal text. */
const CLASS_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'b', 'B', 'A', 'z', 'n', 'r', 't', 'f', 'v', 'a']);
const GIVE_UP = Symbol('give up');

/**
 * For a Go regex, literals (two characters or more) one of which every match must contain: the longest
 * run of plain characters of each top-level alternative (`a|b`: any of them), or undefined when some
 * alternative has none or the syntax is beyond this simple reading. A character followed by `?`, `*` or
 * `{` is optional; groups and classes break runs and are skipped; escaped punctuation (`\.`) is a literal.
 * A leading `(?i)` makes the literals caseless: they are lower-cased, and a run stops at a non-ASCII
 * character and at k and s (which fold to the Kelvin sign and the long s in Go).
 */
export function requiredLiterals(re: string): RequiredLiterals | undefined {
  const flags = /^\(\?([imsU]+)\)/.exec(re);
  const caseless = flags !== null && flags[1]!.includes('i');
  const found = scanAlternatives(flags ? re.slice(flags[0].length) : re, caseless);
  if (found === GIVE_UP || found.some((lit) => lit.length < 2)) return undefined;
  return { anyOf: found, caseless };
}

/** The longest plain run of each top-level alternative of `re`. */
function scanAlternatives(re: string, caseless: boolean): string[] | typeof GIVE_UP {
  const found: string[] = [];
  let best = '';
  let run: string[] = [];
  let depth = 0;
  const endRun = (dropLast: boolean) => {
    if (dropLast) run.pop();
    const text = run.join('');
    if (text.length > best.length) best = text;
    run = [];
  };
  for (let i = 0; i < re.length;) {
    const ch = String.fromCodePoint(re.codePointAt(i)!);
    i += ch.length;
    if (ch === '\\') {
      const next = re[i];
      if (next === undefined) return GIVE_UP;
      i++;
      if (!/[a-zA-Z0-9]/.test(next)) {
        if (depth === 0) run.push(next);
        continue;
      }
      if (next === 'p' || next === 'P') {
        if (re[i] === '{') {
          const close = re.indexOf('}', i);
          if (close < 0) return GIVE_UP;
          i = close + 1;
        } else i++;
      } else if (!CLASS_ESCAPES.has(next)) return GIVE_UP; // \x41, \Q...\E, octal: not read here
      endRun(false);
      continue;
    }
    if (ch === '[') {
      const close = classEnd(re, i);
      if (close < 0) return GIVE_UP;
      i = close;
      endRun(false);
      continue;
    }
    if (ch === '(') {
      if (re[i] === '?' && /^\?[a-zA-Z-]*i[a-zA-Z-]*[:)]/.test(re.slice(i))) return GIVE_UP; // case flags inside
      depth++;
      endRun(false);
      continue;
    }
    if (ch === ')') {
      depth--;
      endRun(false);
      continue;
    }
    if (depth > 0) continue;
    if (ch === '|') {
      endRun(false);
      found.push(best);
      best = '';
      continue;
    }
    if (ch === '?' || ch === '*') {
      endRun(true);
      continue;
    }
    if (ch === '{') {
      endRun(true);
      const close = re.indexOf('}', i);
      if (close >= 0) i = close + 1;
      continue;
    }
    if (ch === '+' || ch === '.' || ch === '^' || ch === '$') {
      endRun(false);
      continue;
    }
    if (caseless && (ch.charCodeAt(0) > 127 || /[ksKS]/.test(ch))) {
      endRun(false);
      continue;
    }
    run.push(caseless ? ch.toLowerCase() : ch);
  }
  endRun(false);
  found.push(best);
  return found;
}

/** The offset after the `]` closing the class whose `[` is just before `at`, or -1. */
function classEnd(re: string, at: number): number {
  let i = at;
  if (re[i] === '^') i++;
  if (re[i] === ']') i++; // a leading ] is a member
  while (i < re.length) {
    const c = re[i]!;
    if (c === '\\') i += 2;
    else if (c === '[' && re[i + 1] === ':') {
      const close = re.indexOf(':]', i + 2);
      if (close < 0) return -1;
      i = close + 2;
    } else if (c === ']') return i + 1;
    else i++;
  }
  return -1;
}

/** The `name="value"` equalities a label filter requires (through `and`; `or` gives nothing). */
function requiredEqualities(f: LabelFilterExpr, out: Array<{ name: string; value: string }>): void {
  if (f.kind === 'and') {
    requiredEqualities(f.left, out);
    requiredEqualities(f.right, out);
  } else if (f.kind === 'string' && f.matcher.type === '=' && f.matcher.value !== '') {
    out.push({ name: f.matcher.name, value: f.matcher.value });
  }
}

const BACKSLASH = 0x5c;

/** `streamLabels`: the stream's own label names (a filter on one of them does not read the line). */
export function compileBytePrefilter(stages: readonly PipelineStage[], streamLabels: ReadonlySet<string> = new Set()): BytePrefilter | undefined {
  const must: Needle[] = [];
  const mustNot: Needle[] = [];
  const parsedValues: Needle[] = [];
  let parsed = false;
  for (const s of stages) {
    if (s.kind === 'line_format' || s.kind === 'decolorize' || s.kind === 'unpack' || s.kind === 'label_format') break;
    if (s.kind === 'json' || s.kind === 'logfmt') parsed = true;
    if (s.kind === 'label_filter' && parsed) {
      const eqs: Array<{ name: string; value: string }> = [];
      requiredEqualities(s.filter, eqs);
      for (const { name, value } of eqs) {
        if (!streamLabels.has(name) && !name.startsWith('__') && name !== 'detected_level') parsedValues.push(new Occurrence(Buffer.from(value)));
      }
    }
    if (s.kind !== 'line_filter' || s.ip) continue;
    const values = [s.value, ...s.or];
    if (s.op === '|=' && !values.includes('')) must.push(anyOf(values.map((v) => new Occurrence(Buffer.from(v)))));
    else if (s.op === '!=') {
      // `!= "a" or "b"` drops lines holding either: each is a literal the line must not hold.
      for (const v of values) if (v !== '') mustNot.push(new Occurrence(Buffer.from(v)));
    } else if (s.op === '|~') {
      const found = values.map(requiredLiterals);
      if (found.every((f) => f !== undefined)) must.push(anyOf(found.flatMap((f) => f!.anyOf.map((lit) => literalNeedle(lit, f!.caseless)))));
    }
  }
  if (must.length === 0 && mustNot.length === 0 && parsedValues.length === 0) return undefined;
  return new AnchoredPrefilter(must, mustNot, parsedValues);
}

function literalNeedle(literal: string, caseless: boolean): Needle {
  return caseless && /[a-z]/.test(literal) ? new CaselessOccurrence(literal) : new Occurrence(Buffer.from(literal));
}

function anyOf(needles: Needle[]): Needle {
  return needles.length === 1 ? needles[0]! : new AnyOccurrence(needles);
}

class AnchoredPrefilter implements BytePrefilter {
  private readonly backslash = new Occurrence(BACKSLASH);

  constructor(private readonly must: readonly Needle[], private readonly mustNot: readonly Needle[], private readonly parsedValues: readonly Needle[]) {}

  reset(): void {
    for (const o of this.must) o.reset();
    for (const o of this.mustNot) o.reset();
    for (const o of this.parsedValues) o.reset();
    this.backslash.reset();
  }

  keeps(buf: Buffer, start: number, end: number, hasMetadata: boolean): boolean {
    for (let i = 0; i < this.must.length; i++) if (!this.must[i]!.inLine(buf, start, end)) return false;
    for (let i = 0; i < this.mustNot.length; i++) if (this.mustNot[i]!.inLine(buf, start, end)) return false;
    const values = this.parsedValues;
    // A parsed value may come from structured metadata or be spelled with an escape: such lines are kept.
    if (values.length === 0 || hasMetadata) return true;
    for (let i = 0; i < values.length; i++) {
      if (!values[i]!.inLine(buf, start, end)) return this.backslash.inLine(buf, start, end);
    }
    return true;
  }
}
