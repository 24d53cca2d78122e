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
class Occurrence {
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

const REGEX_SPECIAL = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

/**
 * The longest literal every match of a Go regex must contain, or undefined when none can be found
 * simply: alternations, case-insensitive flags and escapes give up; a character followed by `?`, `*` or
 * `{` is optional; anything inside a group or a class breaks the run.
 */
export function requiredLiteral(re: string): string | undefined {
  if (re.includes('|') || re.includes('(?') || re.includes('\\')) return undefined;
  let best = '';
  let run = '';
  let depth = 0;
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '[') {
      const close = re.indexOf(']', i + 2);
      if (close < 0) return undefined;
      i = close;
      run = '';
      continue;
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (REGEX_SPECIAL.has(c) || depth > 0) {
      if (c === '?' || c === '*' || c === '{') run = run.slice(0, -1); // the previous character is optional
      if (run.length > best.length) best = run;
      run = '';
      continue;
    }
    run += c;
  }
  if (run.length > best.length) best = run;
  return best.length >= 2 ? best : undefined;
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
  const must: Buffer[] = [];
  const mustNot: Buffer[] = [];
  const parsedValues: Buffer[] = [];
  let parsed = false;
  for (const s of stages) {
    if (s.kind === 'line_format' || s.kind === 'decolorize' || s.kind === 'unpack' || s.kind === 'label_format') break;
    if (s.kind === 'json' || s.kind === 'logfmt') parsed = true;
    if (s.kind === 'label_filter' && parsed) {
      const eqs: Array<{ name: string; value: string }> = [];
      requiredEqualities(s.filter, eqs);
      for (const { name, value } of eqs) {
        if (!streamLabels.has(name) && !name.startsWith('__') && name !== 'detected_level') parsedValues.push(Buffer.from(value));
      }
    }
    if (s.kind !== 'line_filter' || s.or.length > 0 || s.ip) continue;
    if (s.op === '|=' && s.value !== '') must.push(Buffer.from(s.value));
    else if (s.op === '!=' && s.value !== '') mustNot.push(Buffer.from(s.value));
    else if (s.op === '|~') {
      const lit = requiredLiteral(s.value);
      if (lit) must.push(Buffer.from(lit));
    }
  }
  if (must.length === 0 && mustNot.length === 0 && parsedValues.length === 0) return undefined;
  return new AnchoredPrefilter(must, mustNot, parsedValues);
}

class AnchoredPrefilter implements BytePrefilter {
  private readonly must: Occurrence[];
  private readonly mustNot: Occurrence[];
  private readonly parsedValues: Occurrence[];
  private readonly backslash = new Occurrence(BACKSLASH);

  constructor(must: readonly Buffer[], mustNot: readonly Buffer[], parsedValues: readonly Buffer[]) {
    this.must = must.map((m) => new Occurrence(m));
    this.mustNot = mustNot.map((m) => new Occurrence(m));
    this.parsedValues = parsedValues.map((m) => new Occurrence(m));
  }

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
