import { type Label, isValidLabelName, sortLabels } from './labels.js';
import { lineCol } from './position.js';
import { readGoString, UnquoteError } from './quote.js';

/** A label string that is not `{name="value", ...}`. The message follows Loki's parse-error shape. */
export class LabelParseError extends Error {
  override readonly name = 'LabelParseError';
}

function fail(src: string, offset: number, what: string): never {
  const { line, col } = lineCol(src, offset);
  throw new LabelParseError(`parse error at line ${line}, col ${col}: ${what}`);
}

function skipSpace(src: string, i: number): number {
  while (i < src.length && (src[i] === ' ' || src[i] === '\t' || src[i] === '\n' || src[i] === '\r')) i++;
  return i;
}

/**
 * Parses a stream label set as sent in push requests: `{a="b", c="d"}` (double-quoted Go strings or
 * backtick raw strings). Returns the labels sorted by name; duplicates are kept for the caller to reject
 * with Loki's own message.
 */
export function parseLabels(src: string): Label[] {
  let i = skipSpace(src, 0);
  if (src[i] !== '{') fail(src, i, `syntax error: unexpected ${describe(src, i)}, expecting {`);
  i = skipSpace(src, i + 1);
  const labels: Label[] = [];
  if (src[i] === '}') return finish(src, i + 1, labels);
  for (;;) {
    const nameStart = i;
    while (i < src.length && /[a-zA-Z0-9_]/.test(src[i]!)) i++;
    const name = src.slice(nameStart, i);
    if (!isValidLabelName(name)) fail(src, nameStart, `syntax error: unexpected ${describe(src, nameStart)}, expecting IDENTIFIER`);
    i = skipSpace(src, i);
    if (src[i] !== '=') fail(src, i, `syntax error: unexpected ${describe(src, i)}, expecting =`);
    i = skipSpace(src, i + 1);
    let value: string;
    if (src[i] === '"') {
      try {
        const r = readGoString(src, i);
        value = r.value;
        i = r.end;
      } catch (e) {
        if (e instanceof UnquoteError) fail(src, e.offset, e.message);
        throw e;
      }
    } else if (src[i] === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail(src, i, 'literal not terminated');
      value = src.slice(i + 1, end);
      i = end + 1;
    } else {
      fail(src, i, `syntax error: unexpected ${describe(src, i)}, expecting STRING`);
    }
    labels.push({ name, value });
    i = skipSpace(src, i);
    if (src[i] === ',') {
      i = skipSpace(src, i + 1);
      continue;
    }
    if (src[i] === '}') return finish(src, i + 1, labels);
    fail(src, i, `syntax error: unexpected ${describe(src, i)}, expecting , or }`);
  }
}

function finish(src: string, i: number, labels: Label[]): Label[] {
  i = skipSpace(src, i);
  if (i < src.length) fail(src, i, `syntax error: unexpected ${describe(src, i)}`);
  return sortLabels(labels);
}

function describe(src: string, i: number): string {
  if (i >= src.length) return '$end';
  const ch = src[i]!;
  if (/[a-zA-Z_]/.test(ch)) return 'IDENTIFIER';
  if (/[0-9]/.test(ch)) return 'NUMBER';
  if (ch === '"' || ch === '`') return 'STRING';
  return ch;
}
