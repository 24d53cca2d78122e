/*
 * The `json` parser. Loki walks a line with github.com/buger/jsonparser, which is lenient in its own ways
 * (trailing bytes after the object are ignored, arrays are skipped without being validated deeply) and
 * whose error texts end up in __error_details__. This walker follows the same steps so that a line gets
 * the same labels and the same error as in Loki.
 */

export const MALFORMED_JSON = 'Malformed JSON error';
export const MALFORMED_STRING = "Value is string, but can't find closing '\"' symbol";
export const MALFORMED_ARRAY = "Value is array, but can't find closing ']' symbol";
export const MALFORMED_OBJECT = "Value looks like object, but can't find closing '}' symbol";
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

/*
 * The walk works on offsets below a `limit` (a nested object is walked in place, not copied) and reports
 * malformed input by returning jsonparser's error text: a line that is not JSON costs no exception, no
 * stack trace and no allocation.
 */

/** Offset of the next non-whitespace character at or after `i` (before `limit`), or -1. */
function nextToken(s: string, i: number, limit: number): number {
  while (i < limit && isSpace(s.charCodeAt(i))) i++;
  return i < limit ? i : -1;
}

/**
 * Offset just past the closing quote of a string whose content starts at `i`, or -1. A quote is found with
 * indexOf; it closes the string unless an odd run of backslashes escapes it.
 */
function stringEnd(s: string, i: number, limit: number): number {
  for (let from = i; ; ) {
    const quote = s.indexOf('"', from);
    if (quote < 0 || quote >= limit) return -1;
    let run = quote;
    while (run > from && s.charCodeAt(run - 1) === 92) run--;
    if (((quote - run) & 1) === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Offset just past the block (array or object) that opens at `i`, or -1. */
function blockEnd(s: string, i: number, limit: number, open: number, close: number): number {
  let level = 0;
  for (let j = i; j < limit; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) {
      const e = stringEnd(s, j + 1, limit);
      if (e < 0) return -1;
      j = e - 1;
    } else if (c === open) level++;
    else if (c === close && --level === 0) return j + 1;
  }
  return -1;
}

function tokenEnd(s: string, i: number, limit: number): number {
  for (let j = i; j < limit; j++) {
    const c = s.charCodeAt(j);
    if (isSpace(c) || c === 44 || c === 125 || c === 93) return j;
  }
  return limit;
}

/** Whether s[start, end) is exactly `word` (a literal checked without copying it). */
function textIs(s: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && s.startsWith(word, start);
}

/**
 * A key's closing quote for a key whose text starts at `i`, found by a plain loop (keys are short) that
 * also sees backslashes: twice the quote's offset, plus 1 when the key holds a backslash; -1 if unclosed.
 */
function keyEnd(s: string, i: number, limit: number): number {
  let escaped = 0;
  for (let j = i; j < limit; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) return 2 * j + escaped;
    if (c === 92) {
      escaped = 1;
      j++;
    }
  }
  return -1;
}

/** The last value scanValue read: one record, overwritten by each scan (callers copy what they keep). */
const scanned: JsonValue = { type: JsonType.Null, start: 0, end: 0, next: 0 };

function setScanned(type: JsonType, start: number, end: number): undefined {
  scanned.type = type;
  scanned.start = start;
  scanned.end = end;
  scanned.next = type === JsonType.String ? end + 1 : end;
  return undefined;
}

/** Reads the value at or after `i` into `scanned` (jsonparser's Get without keys); an error text if malformed. */
function scanValue(s: string, i: number, limit: number): string | undefined {
  const start = nextToken(s, i, limit);
  if (start < 0) return MALFORMED_JSON;
  const c = s.charCodeAt(start);
  if (c === 34) {
    const end = stringEnd(s, start + 1, limit);
    return end < 0 ? MALFORMED_STRING : setScanned(JsonType.String, start + 1, end - 1);
  }
  if (c === 91 || c === 123) {
    const end = blockEnd(s, start, limit, c, c + 2);
    if (end < 0) return c === 91 ? MALFORMED_ARRAY : MALFORMED_OBJECT;
    return setScanned(c === 91 ? JsonType.Array : JsonType.Object, start, end);
  }
  const end = tokenEnd(s, start, limit);
  if (c === 116 || c === 102) {
    if (!textIs(s, start, end, 'true') && !textIs(s, start, end, 'false')) return UNKNOWN_VALUE;
    return setScanned(JsonType.Boolean, start, end);
  }
  if (c === 110 || c === 117) return textIs(s, start, end, 'null') ? setScanned(JsonType.Null, start, end) : UNKNOWN_VALUE;
  if ((c >= 48 && c <= 57) || c === 45) return setScanned(JsonType.Number, start, end);
  return UNKNOWN_VALUE;
}

/** The value starting at or after `i` (jsonparser's Get without keys). */
export function readValue(s: string, i: number): JsonValue {
  const error = scanValue(s, i, s.length);
  if (error !== undefined) throw new JsonWalkError(error);
  return { ...scanned };
}

/**
 * What walkObject calls per field: the key is s[keyStart, keyEnd) as written (`keyEscaped`: it holds a
 * backslash, to be decoded), the value's type and [start, end) as in JsonValue. Returns an error text to
 * end the walk with, or undefined to go on.
 */
export type FieldVisitor = (s: string, keyStart: number, keyEnd: number, keyEscaped: boolean, type: JsonType, start: number, end: number) => string | undefined;

/**
 * Visits each key/value pair of the object in s[from, limit), in order (jsonparser's ObjectEach), without
 * copying keys or values. Returns jsonparser's error text for malformed input (or the visitor's), else undefined.
 */
export function walkObject(s: string, from: number, limit: number, visit: FieldVisitor): string | undefined {
  let i = nextToken(s, from, limit);
  if (i < 0 || s.charCodeAt(i) !== 123) return MALFORMED_OBJECT;
  i = nextToken(s, i + 1, limit);
  if (i < 0) return MALFORMED_JSON;
  if (s.charCodeAt(i) === 125) return undefined;
  while (i < limit) {
    const c = s.charCodeAt(i);
    if (c === 125) return undefined;
    if (c !== 34) return MALFORMED_OBJECT;
    const keyStart = i + 1;
    const closing = keyEnd(s, keyStart, limit);
    if (closing < 0) return MALFORMED_JSON;
    const keyStop = closing >>> 1;
    const keyEscaped = (closing & 1) === 1;
    if (keyEscaped && unescapeJson(s.slice(keyStart, keyStop)) === undefined) return MALFORMED_ESCAPE;
    i = nextToken(s, keyStop + 1, limit);
    if (i < 0 || s.charCodeAt(i) !== 58) return MALFORMED_JSON;
    const error = scanValue(s, i + 1, limit);
    if (error !== undefined) return error;
    const next = scanned.next;
    const visitError = visit(s, keyStart, keyStop, keyEscaped, scanned.type, scanned.start, scanned.end);
    if (visitError !== undefined) return visitError;
    i = nextToken(s, next, limit);
    if (i < 0) return MALFORMED_ARRAY;
    const sep = s.charCodeAt(i);
    if (sep === 125) return undefined;
    if (sep !== 44) return MALFORMED_OBJECT;
    i = nextToken(s, i + 1, limit);
    if (i < 0) return MALFORMED_ARRAY;
  }
  return MALFORMED_OBJECT;
}

/**
 * Calls `fn` for each key/value pair of the object in s[from, to), in order (jsonparser's ObjectEach).
 * Throws JsonWalkError with jsonparser's message for malformed input.
 */
export function eachObjectField(s: string, from: number, to: number, fn: (key: string, value: JsonValue) => void): void {
  const error = walkObject(s, from, to, (text, keyStart, keyEnd, keyEscaped, type, start, end) => {
    const raw = text.slice(keyStart, keyEnd);
    fn(keyEscaped ? unescapeJson(raw)! : raw, { type, start, end, next: type === JsonType.String ? end + 1 : end });
    return undefined;
  });
  if (error !== undefined) throw new JsonWalkError(error);
}

/** Calls `fn` for each element of the array in s[from, ...) (jsonparser's ArrayEach). */
export function eachArrayElement(s: string, from: number, fn: (index: number, value: JsonValue) => boolean): void {
  const limit = s.length;
  let i = nextToken(s, from, limit);
  if (i < 0 || s.charCodeAt(i) !== 91) throw new JsonWalkError(MALFORMED_ARRAY);
  i = nextToken(s, i + 1, limit);
  if (i < 0) throw new JsonWalkError(MALFORMED_JSON);
  if (s.charCodeAt(i) === 93) return;
  for (let index = 0; ; index++) {
    const value = readValue(s, i);
    if (!fn(index, value)) return;
    i = nextToken(s, value.next, limit);
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
  return labelValueAt(s, v.type, v.start, v.end);
}

/** labelValueOf for the value of `type` at s[start, end). */
export function labelValueAt(s: string, type: JsonType, start: number, end: number): string {
  switch (type) {
    case JsonType.String: {
      const u = unescapeJson(s.slice(start, end));
      // Loki drops strings that do not unescape or hold invalid UTF-8 (U+FFFD).
      return u === undefined || u.includes('\ufffd') || hasLoneSurrogate(u) ? '' : u;
    }
    case JsonType.Null:
      return '';
    default:
      return s.slice(start, end);
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
