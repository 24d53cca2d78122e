import { ByteNeedle, type RequiredLiteral, requiredLiterals } from '@loki-lite/shared';
import type { LabelFilterExpr, PipelineStage } from '../syntax/ast.js';
import { ERROR_LABEL } from './labels-builder.js';

/*
 * A test on a line's raw bytes that every line the pipeline keeps must pass, so a chunk reader can skip
 * the others without making a string or an entry of them. It only uses stages that run before any stage
 * that rewrites the line, and only conditions that are certain: a `|=` literal must occur, a `!=` literal
 * must not, one of a `|~` regex's required literals (shared's requiredLiterals) must occur; and after a
 * parser, `| name="value"` needs the value in the line, and a typed comparison (`| name > 5`, `| name >
 * 10ms`) needs the name's letters and digits, unless the name is one of the stream's labels, the line has
 * structured metadata, or the line has a backslash (an escaped value or key).
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
  private readonly length: number;
  /** A needle of two or more bytes; a single one is searched for with indexOf of a byte (memchr). */
  private readonly search: ByteNeedle | undefined;
  private readonly byte: number;

  constructor(needle: Buffer | number) {
    this.length = typeof needle === 'number' ? 1 : needle.length;
    this.search = typeof needle !== 'number' && needle.length >= 2 ? new ByteNeedle(needle) : undefined;
    this.byte = typeof needle === 'number' ? needle : (needle[0] ?? 0);
  }

  reset(): void {
    this.at = -1;
  }

  /**
   * Whether buf[start, end) contains the needle. An occurrence found earlier at or after `start` is the
   * first one there, so when it does not end inside the line, no other occurrence is inside either.
   */
  inLine(buf: Buffer, start: number, end: number): boolean {
    if (this.at < start) {
      // (An empty needle is everywhere.)
      const found = this.search ? this.search.indexIn(buf, start) : this.length === 1 ? buf.indexOf(this.byte, start) : start;
      this.at = found < 0 ? buf.length : found;
    }
    return this.at + this.length <= end;
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
 * The next occurrence of a literal whose ASCII letters may be in any case (`(?i)`), found like Occurrence does:
 * its rarest byte is searched for (in both cases) with indexOf, and the rest compared around it, byte by byte.
 */
class CaselessOccurrence implements Needle {
  private at = -1;
  /** The literal's UTF-8 with its ASCII letters in lower case. */
  private readonly lower: Buffer;
  /** Index in `lower` of the byte searched for, and that byte in either case. */
  private readonly anchor: number;
  private readonly anchorLower: number;
  private readonly anchorUpper: number;

  constructor(literal: string) {
    this.lower = Buffer.from(literal.replace(/[A-Z]/g, (c) => c.toLowerCase()));
    let anchor = 0;
    let rank = -1;
    for (let i = 0; i < this.lower.length; i++) {
      // A byte that is not a letter has one case: best of all; else the rarest letter.
      const r = LETTER_FREQUENCY.indexOf(String.fromCharCode(this.lower[i]!));
      const score = r < 0 ? 100 : r;
      if (score > rank) {
        rank = score;
        anchor = i;
      }
    }
    this.anchor = anchor;
    this.anchorLower = this.lower[anchor]!;
    this.anchorUpper = isLowerAscii(this.anchorLower) ? this.anchorLower - 0x20 : this.anchorLower;
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
    for (let pos = from + this.anchor; ; ) {
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
      // ASCII upper case to lower; a byte of a multi-byte character is compared as it is
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== this.lower[i]) return false;
    }
    return true;
  }
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
  const parsers = new ParserState();
  const fromLine = (name: string) => !streamLabels.has(name) && !name.startsWith('__') && name !== 'detected_level';
  for (const s of stages) {
    if (s.kind === 'line_format' || s.kind === 'decolorize' || s.kind === 'unpack' || s.kind === 'label_format') break;
    if (s.kind === 'label_filter' && parsers.parsed) {
      const eqs: Array<{ name: string; value: string }> = [];
      requiredEqualities(s.filter, eqs);
      for (const { name, value } of eqs) if (fromLine(name)) parsedValues.push(new Occurrence(Buffer.from(value)));
      const compared = parsers.requiresPresence(s.filter);
      if (compared !== undefined && fromLine(compared)) for (const w of keyWords(compared)) parsedValues.push(new Occurrence(Buffer.from(w)));
    }
    parsers.after(s);
    if (s.kind !== 'line_filter' || s.ip) continue;
    const values = [s.value, ...s.or];
    if (s.op === '|=' && !values.includes('')) must.push(anyOf(values.map((v) => new Occurrence(Buffer.from(v)))));
    else if (s.op === '!=') {
      // `!= "a" or "b"` drops lines holding either: each is a literal the line must not hold.
      for (const v of values) if (v !== '') mustNot.push(new Occurrence(Buffer.from(v)));
    } else if (s.op === '|~') {
      const found = values.map(requiredLiterals);
      if (found.every((f) => f !== undefined)) must.push(anyOf(found.flat().map(literalNeedle)));
    }
  }
  if (must.length === 0 && mustNot.length === 0 && parsedValues.length === 0) return undefined;
  return new AnchoredPrefilter(must, mustNot, parsedValues);
}

/**
 * What the parser stages so far allow the prefilter to conclude about a typed label filter. A typed
 * comparison (number, duration, bytes, ip) drops a line without its label, but keeps any line that has an
 * __error__ already (label-filter.ts, as in Loki); so the label must be there only where no line can
 * carry an error: after `| __error__=""`, with no parser or typed filter since (either can set one).
 */
class ParserState {
  parsed = false;
  /** Every parser so far names its labels after the line's keys (json and logfmt without parameters). */
  private namesFromKeys = true;
  private noErrors = true;

  /** The label a filter stage needs on every line it keeps, when that label can only come from the line's keys. */
  requiresPresence(f: LabelFilterExpr): string | undefined {
    if (!this.noErrors || !this.namesFromKeys) return undefined;
    return f.kind === 'number' || f.kind === 'duration' || f.kind === 'bytes' || f.kind === 'ip' ? f.name : undefined;
  }

  after(s: PipelineStage): void {
    if (s.kind === 'json' || s.kind === 'logfmt') {
      this.parsed = true;
      this.noErrors = false;
      if (s.params.length > 0) this.namesFromKeys = false;
    } else if (s.kind === 'regexp' || s.kind === 'pattern') {
      // Their labels are named by the pattern, not by anything in the line.
      this.parsed = true;
      this.noErrors = false;
      this.namesFromKeys = false;
    } else if (s.kind === 'label_filter') {
      if (isNoErrorFilter(s.filter)) this.noErrors = true;
      else if (s.filter.kind !== 'string') this.noErrors = false;
    }
  }
}

/** `| __error__=""`: the lines left have no error. */
function isNoErrorFilter(f: LabelFilterExpr): boolean {
  return f.kind === 'string' && f.matcher.name === ERROR_LABEL && f.matcher.type === '=' && f.matcher.value === '';
}

/**
 * The runs of ASCII letters and digits of a label name made from a key: a parser keeps those characters of
 * a key as they are (sanitizing turns every other character into `_`, joins nested JSON keys with `_`, and
 * a key that clashes with a stream label gets `_extracted`), so each run is in the line, unless the key
 * was spelled with an escape.
 */
function keyWords(name: string): string[] {
  const key = name.endsWith(EXTRACTED) ? name.slice(0, -EXTRACTED.length) : name;
  return key.split(/[^a-zA-Z0-9]+/).filter((w) => w !== '');
}

const EXTRACTED = '_extracted';

function literalNeedle({ text, caseless }: RequiredLiteral): Needle {
  return caseless && /[a-zA-Z]/.test(text) ? new CaselessOccurrence(text) : new Occurrence(Buffer.from(text));
}

function isLowerAscii(byte: number): boolean {
  return byte >= 0x61 && byte <= 0x7a;
}

function anyOf(needles: Needle[]): Needle {
  return needles.length === 1 ? needles[0]! : new AnyOccurrence(needles);
}

class AnchoredPrefilter implements BytePrefilter {
  private readonly backslash = new Occurrence(BACKSLASH);

  constructor(
    private readonly must: readonly Needle[],
    private readonly mustNot: readonly Needle[],
    private readonly parsedValues: readonly Needle[],
  ) {}

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
