import { unescapeJson } from './json.js';

/*
 * logfmt scanning as Loki's decoder (pkg/logql/log/logfmt, adapted from go-logfmt) does it, with the same
 * error texts: `key=value`, `key="quoted \"value\""`, and bare keys, separated by whitespace. Scanning stops at
 * the first syntax error, whose text is returned; pairs before it are kept (this is what the answers
 * recorded from Loki in ../shared/compat show).
 */

const isSpace = (c: number) => c <= 32;

/**
 * Parser hints' key naming: for the key line[start, end), null when nothing reads it (key and value are
 * not copied), its label name when known without copying the key (onPair then gets it, and "" as the key),
 * or undefined to copy the key. `ascii`: the key has no character above U+007F (the scan tells it for
 * free, so the namer need not read the key again).
 */
export type KeyNamer = (line: string, start: number, end: number, ascii: boolean) => string | null | undefined;

/**
 * Calls `onPair` for each key/value of `line` (it returns true to stop: everything needed was found); a
 * bare key (no `=`) comes with "" as Loki's decoder reports it. Returns the syntax error's text, if any.
 */
export function scanLogfmt(
  line: string,
  onPair: (key: string, value: string, name: string | undefined) => boolean | void,
  keyName?: KeyNamer,
): string | undefined {
  let pos = 0;
  const n = line.length;
  while (pos < n) {
    while (pos < n && isSpace(line.charCodeAt(pos))) pos++;
    if (pos >= n) return undefined;
    // key
    const start = pos;
    let sawEqual = false;
    // Every character of the key or-ed: above 127 when one is not ASCII.
    let bits = 0;
    for (; pos < n; pos++) {
      const c = line.charCodeAt(pos);
      bits |= c;
      if (c > 61) continue; // letters and '_': the usual key
      if (c === 61) {
        // '='
        if (pos === start) return unexpected(line, pos);
        sawEqual = true;
        break;
      }
      if (c === 34) return unexpected(line, pos); // '"'
      if (isSpace(c)) break;
    }
    const ascii = bits < 128;
    // The key is copied out only when something reads it.
    const name = keyName ? keyName(line, start, pos, ascii) : undefined;
    const wanted = name !== null;
    const key = name === undefined ? line.slice(start, pos) : '';
    // Invalid UTF-8 was decoded as the replacement character, which is not ASCII.
    if (!ascii && key.includes('\ufffd')) return syntaxError(pos, 'invalid key');
    if (!sawEqual) {
      if (wanted && onPair(key, '', name)) return undefined;
      continue;
    }
    pos++; // past '='
    if (pos >= n || isSpace(line.charCodeAt(pos))) {
      if (wanted && onPair(key, '', name)) return undefined;
      continue;
    }
    if (line.charCodeAt(pos) === 34) {
      const closing = quotedEnd(line, pos);
      if (closing < 0) return syntaxError(n, 'unterminated quoted value');
      const end = closing >>> 1;
      // An escape is checked even in a value nobody reads: a bad one is a syntax error.
      const value = wanted || (closing & 1) === 1 ? quotedValue(line, pos, end) : '';
      if (value === undefined) return syntaxError(end, 'invalid quoted value');
      pos = end;
      if (wanted && onPair(key, validValue(value), name)) return undefined;
      continue;
    }
    const vstart = pos;
    for (; pos < n; pos++) {
      const c = line.charCodeAt(pos);
      if (c > 61 || (c > 34 && c < 61)) continue; // neither '=', '"' nor a space
      if (c === 61 || c === 34) return unexpected(line, pos);
      if (isSpace(c)) break;
    }
    if (wanted && onPair(key, validValue(line.slice(vstart, pos)), name)) return undefined;
  }
  return undefined;
}

const syntaxError = (at: number, msg: string) => `logfmt syntax error at pos ${at + 1} : ${msg}`;

/**
 * The texts of `unexpected` errors by character, then position: lines that are not logfmt (JSON, access
 * logs) fail at the same few places line after line, and each text is made once. Positions past
 * CACHED_POSITIONS are made each time.
 */
const unexpectedTexts: Array<Array<string | undefined> | undefined> = [];
const CACHED_POSITIONS = 512;

function unexpected(line: string, at: number): string {
  if (at >= CACHED_POSITIONS) return unexpectedText(line, at);
  const byPosition = (unexpectedTexts[line.charCodeAt(at)] ??= new Array<string | undefined>(CACHED_POSITIONS));
  return (byPosition[at] ??= unexpectedText(line, at));
}

const unexpectedText = (line: string, at: number) => syntaxError(at, `unexpected ${goQuoteChar(line[at]!)}`);

/** Loki drops values holding the replacement character (invalid UTF-8). */
const validValue = (v: string) => (v.includes('\ufffd') ? '' : v);

/**
 * The end of the quoted value opening at `at` (the offset past its closing quote), found by a loop that
 * also sees escapes: twice the offset, plus 1 when the value holds a backslash; -1 when unterminated.
 */
function quotedEnd(line: string, at: number): number {
  let escaped = 0;
  for (let i = at + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92) {
      escaped = 1;
      i++;
    } else if (c === 34) return 2 * (i + 1) + escaped;
  }
  return -1;
}

/** The text of the quoted value line[at, end), unescaped; undefined for a bad escape. */
function quotedValue(line: string, at: number, end: number): string | undefined {
  return unescapeJson(line.slice(at + 1, end - 1), true);
}

/** Go's %q of a byte. */
function goQuoteChar(ch: string): string {
  return ch === "'" ? "'\\''" : ch === '\\' ? "'\\\\'" : `'${ch}'`;
}
