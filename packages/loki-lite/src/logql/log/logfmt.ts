import { unescapeJson } from './json.js';

/*
 * logfmt scanning as Loki's decoder (pkg/logql/log/logfmt, adapted from go-logfmt) does it, with the same
 * error texts: `key=value`, `key="quoted \"value\""`, and bare keys, separated by whitespace. Scanning stops at
 * the first syntax error, whose text is returned; pairs before it are kept (this is what the answers
 * recorded from Loki in ../shared/compat show).
 */

const isSpace = (c: number) => c <= 32;

/**
 * Calls `onPair` for each key/value of `line` (it returns true to stop: everything needed was found); a
 * bare key (no `=`) comes with "" as Loki's decoder reports
 * it. Returns the syntax error's text, if any.
 */
export function scanLogfmt(
  line: string,
  onPair: (key: string, value: string) => boolean | void,
  /** Whether the key line[start, end) is needed at all (parser hints); false skips copying key and value. */
  wantKey?: (line: string, start: number, end: number) => boolean,
): string | undefined {
  let pos = 0;
  const n = line.length;
  const error = (at: number, msg: string) => `logfmt syntax error at pos ${at + 1} : ${msg}`;
  const unexpected = (at: number) => error(at, `unexpected ${goQuoteChar(line[at]!)}`);
  while (pos < n) {
    while (pos < n && isSpace(line.charCodeAt(pos))) pos++;
    if (pos >= n) return undefined;
    // key
    const start = pos;
    let sawEqual = false;
    for (; pos < n; pos++) {
      const c = line.charCodeAt(pos);
      if (c === 61) { // '='
        if (pos === start) return unexpected(pos);
        sawEqual = true;
        break;
      }
      if (c === 34) return unexpected(pos); // '"'
      if (isSpace(c)) break;
    }
    // The key is copied out only when something reads it.
    const wanted = !wantKey || wantKey(line, start, pos);
    const key = wanted ? line.slice(start, pos) : '';
    if (key.includes('\ufffd')) return error(pos, 'invalid key');
    if (!sawEqual) {
      if (wanted && onPair(key, '')) return undefined;
      continue;
    }
    pos++; // past '='
    if (pos >= n || isSpace(line.charCodeAt(pos))) {
      if (wanted && onPair(key, '')) return undefined;
      continue;
    }
    if (line.charCodeAt(pos) === 34) {
      const q = readQuoted(line, pos, wanted);
      if (q.end < 0) return error(n, 'unterminated quoted value');
      if (q.value === undefined) return error(q.end, 'invalid quoted value');
      pos = q.end;
      if (wanted && onPair(key, validValue(q.value))) return undefined;
      continue;
    }
    const vstart = pos;
    for (; pos < n; pos++) {
      const c = line.charCodeAt(pos);
      if (c === 61 || c === 34) return unexpected(pos);
      if (isSpace(c)) break;
    }
    if (wanted && onPair(key, validValue(line.slice(vstart, pos)))) return undefined;
  }
  return undefined;
}

/** Loki drops values holding the replacement character (invalid UTF-8). */
const validValue = (v: string) => (v.includes('\ufffd') ? '' : v);

/**
 * A quoted value starting at `at` (the quote): the offset after it (-1: unterminated) and its text
 * (undefined: bad escape; "" when not `wanted`, unless an escape must be checked).
 */
function readQuoted(line: string, at: number, wanted: boolean): { value: string | undefined; end: number } {
  let escaped = false;
  let hasEscape = false;
  for (let i = at + 1; i < line.length; i++) {
    const c = line[i]!;
    if (escaped) escaped = false;
    else if (c === '\\') escaped = hasEscape = true;
    else if (c === '"') {
      if (!wanted && !hasEscape) return { value: '', end: i + 1 };
      const raw = line.slice(at + 1, i);
      return { value: hasEscape ? unescapeJson(raw, true) : raw, end: i + 1 };
    }
  }
  return { value: undefined, end: -1 };
}

/** Go's %q of a byte. */
function goQuoteChar(ch: string): string {
  return ch === "'" ? "'\\''" : ch === '\\' ? "'\\\\'" : `'${ch}'`;
}
