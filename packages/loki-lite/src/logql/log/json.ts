/*
 * The `json` parser. Loki walks a line with github.com/buger/jsonparser, which is lenient in its own ways
 * (trailing bytes after the object are ignored, arrays are skipped without being validated deeply) and
 * whose error texts end up in __error_details__. This walker follows the same steps so that a line gets
 * the same labels and the same error as in Loki.
 */

export const MALFORMED_JSON = 'Malformed JSON error';
export const MALFORMED_STRING = 'Value is string, but can\'t find closing \'"\' symbol';
export const MALFORMED_ARRAY = 'Value is array, but can\'t find closing \']\' symbol';
export const MALFORMED_OBJECT = 'Value looks like object, but can\'t find closing \'}\' symbol';
export const UNKNOWN_VALUE = 'Unknown value type';
export const MALFORMED_ESCAPE = 'Encountered an invalid escape sequence in a string';

export class JsonWalkError extends Error {}

export const enum JsonType {
  String,
  Number,
  Object,
  Array,
  Boolean,
  Null,
}

export interface JsonValue {
  type: JsonType;
  /** [start, end) of the value in the text; for strings, inside the quotes. */
  start: number;
  end: number;
  /** Offset just past the value. */
  next: number;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/** Offset of the next non-whitespace character at or after `i`, or -1. */
function nextToken(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i < s.length ? i : -1;
}

/** Offset just past the closing quote of a string whose content starts at `i`, or -1. */
function stringEnd(s: string, i: number): number {
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92) j++; // backslash: skip the escaped character
    else if (c === 34) return j + 1;
  }
  return -1;
}

/** Offset just past the block (array or object) that opens at `i`, or -1. */
function blockEnd(s: string, i: number, open: number, close: number): number {
  let level = 0;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) {
      const e = stringEnd(s, j + 1);
      if (e < 0) return -1;
      j = e - 1;
    } else if (c === open) level++;
    else if (c === close && --level === 0) return j + 1;
  }
  return -1;
}

function tokenEnd(s: string, i: number): number {
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (isSpace(c) || c === 44 || c === 125 || c === 93) return j;
  }
  return s.length;
}

/** The value starting at or after `i` (jsonparser's Get without keys). */
export function readValue(s: string, i: number): JsonValue {
  const start = nextToken(s, i);
  if (start < 0) throw new JsonWalkError(MALFORMED_JSON);
  const c = s.charCodeAt(start);
  if (c === 34) {
    const end = stringEnd(s, start + 1);
    if (end < 0) throw new JsonWalkError(MALFORMED_STRING);
    return { type: JsonType.String, start: start + 1, end: end - 1, next: end };
  }
  if (c === 91 || c === 123) {
    const end = blockEnd(s, start, c, c + 2);
    if (end < 0) throw new JsonWalkError(c === 91 ? MALFORMED_ARRAY : MALFORMED_OBJECT);
    return { type: c === 91 ? JsonType.Array : JsonType.Object, start, end, next: end };
  }
  const end = tokenEnd(s, start);
  const literal = s.slice(start, end);
  let type: JsonType;
  if (c === 116 || c === 102) {
    if (literal !== 'true' && literal !== 'false') throw new JsonWalkError(UNKNOWN_VALUE);
    type = JsonType.Boolean;
  } else if (c === 110 || c === 117) {
    if (literal !== 'null') throw new JsonWalkError(UNKNOWN_VALUE);
    type = JsonType.Null;
  } else if ((c >= 48 && c <= 57) || c === 45) {
    type = JsonType.Number;
  } else {
    throw new JsonWalkError(UNKNOWN_VALUE);
  }
  return { type, start, end, next: end };
}

/**
 * Calls `fn` for each key/value pair of the object in s[from, to), in order (jsonparser's ObjectEach).
 * Throws JsonWalkError with jsonparser's message for malformed input.
 */
export function eachObjectField(s: string, from: number, to: number, fn: (key: string, value: JsonValue) => void): void {
  const text = to === s.length ? s : s.slice(0, to);
  let i = nextToken(text, from);
  if (i < 0 || text.charCodeAt(i) !== 123) throw new JsonWalkError(MALFORMED_OBJECT);
  i = nextToken(text, i + 1);
  if (i < 0) throw new JsonWalkError(MALFORMED_JSON);
  if (text.charCodeAt(i) === 125) return;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 125) return;
    if (c !== 34) throw new JsonWalkError(MALFORMED_OBJECT);
    const keyEnd = stringEnd(text, i + 1);
    if (keyEnd < 0) throw new JsonWalkError(MALFORMED_JSON);
    let key = text.slice(i + 1, keyEnd - 1);
    if (key.includes('\\')) {
      const k = unescapeJson(key);
      if (k === undefined) throw new JsonWalkError(MALFORMED_ESCAPE);
      key = k;
    }
    i = nextToken(text, keyEnd);
    if (i < 0 || text.charCodeAt(i) !== 58) throw new JsonWalkError(MALFORMED_JSON);
    const value = readValue(text, i + 1);
    fn(key, value);
    i = nextToken(text, value.next);
    if (i < 0) throw new JsonWalkError(MALFORMED_ARRAY);
    const sep = text.charCodeAt(i);
    if (sep === 125) return;
    if (sep !== 44) throw new JsonWalkError(MALFORMED_OBJECT);
    i = nextToken(text, i + 1);
    if (i < 0) throw new JsonWalkError(MALFORMED_ARRAY);
  }
  throw new JsonWalkError(MALFORMED_OBJECT);
}

/** Calls `fn` for each element of the array in s[from, ...) (jsonparser's ArrayEach). */
export function eachArrayElement(s: string, from: number, fn: (index: number, value: JsonValue) => boolean): void {
  let i = nextToken(s, from);
  if (i < 0 || s.charCodeAt(i) !== 91) throw new JsonWalkError(MALFORMED_ARRAY);
  i = nextToken(s, i + 1);
  if (i < 0) throw new JsonWalkError(MALFORMED_JSON);
  if (s.charCodeAt(i) === 93) return;
  for (let index = 0; ; index++) {
    const value = readValue(s, i);
    if (!fn(index, value)) return;
    i = nextToken(s, value.next);
    if (i < 0) throw new JsonWalkError(MALFORMED_ARRAY);
    const c = s.charCodeAt(i);
    if (c === 93) return;
    if (c !== 44) throw new JsonWalkError(MALFORMED_ARRAY);
    i++;
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const ESCAPES_WITH_APOSTROPHE: Readonly<Record<string, string>> = { ...ESCAPES, "'": "'" };

/**
 * JSON string unescaping; undefined for an invalid escape. `apostrophe` also accepts `\'`, as Go's
 * encoding/json unquoting does (logfmt values use it; jsonparser does not).
 */
export function unescapeJson(raw: string, apostrophe = false): string | undefined {
  const escapes = apostrophe ? ESCAPES_WITH_APOSTROPHE : ESCAPES;
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = raw[++i];
    if (e === undefined) return undefined;
    if (e === 'u') {
      const hex = raw.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
      continue;
    }
    const r = escapes[e];
    if (r === undefined) return undefined;
    out += r;
  }
  return out;
}

/** A JSON value as Loki turns it into a label value: unescaped strings, numbers and booleans as written. */
export function labelValueOf(s: string, v: JsonValue): string {
  switch (v.type) {
    case JsonType.String: {
      const u = unescapeJson(s.slice(v.start, v.end));
      // Loki drops strings that do not unescape or hold invalid UTF-8 (U+FFFD).
      return u === undefined || u.includes('\ufffd') || hasLoneSurrogate(u) ? '' : u;
    }
    case JsonType.Null: return '';
    default: return s.slice(v.start, v.end);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/**
 * A `json a="x.y[0]"` expression as path steps: field names and array indexes. Loki's jsonexpr grammar:
 * fields separated by dots, `[N]` indexes, `["key"]` for names with dots or spaces.
 */
export function parseJsonPath(expr: string): Array<string | number> | undefined {
  const steps: Array<string | number> = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '.') {
      if (i === 0 || i === expr.length - 1) return undefined;
      i++;
      continue;
    }
    if (c === '[') {
      const close = expr.indexOf(']', i);
      if (close < 0) return undefined;
      const inner = expr.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) steps.push(Number(inner));
      else if (/^"([^"]*)"$/.test(inner)) steps.push(inner.slice(1, -1));
      else return undefined;
      i = close + 1;
      continue;
    }
    const m = /^[^.[\]]+/.exec(expr.slice(i));
    if (!m) return undefined; // a `]` with no `[` before it
    if (!/^[a-zA-Z0-9_\-\s]+$/.test(m[0]) && !/^[\p{L}\p{N}_\-\s]+$/u.test(m[0])) return undefined;
    steps.push(m[0]);
    i += m[0].length;
  }
  return steps.length > 0 ? steps : undefined;
}

/** The value at `path` in the JSON text, or undefined when the path is not there. */
export function valueAtPath(s: string, path: ReadonlyArray<string | number>): JsonValue | undefined {
  let current: JsonValue = readValue(s, 0);
  for (const step of path) {
    let found: JsonValue | undefined;
    if (typeof step === 'number') {
      if (current.type !== JsonType.Array) return undefined;
      eachArrayElement(s, current.start, (index, v) => {
        if (index === step) found = v;
        return index < step;
      });
    } else {
      if (current.type !== JsonType.Object) return undefined;
      eachObjectField(s, current.start, current.end, (key, v) => {
        if (key === step) found = v;
      });
    }
    if (!found) return undefined;
    current = found;
  }
  return current;
}
