import { compileGoRegex, LokiError } from '@loki-lite/shared';
import type { JsonStage, LogfmtStage, PatternStage, RegexpStage } from '../syntax/ast.js';
import {
  eachObjectField,
  type FieldVisitor,
  JsonType,
  JsonWalkError,
  labelValueAt,
  labelValueOf,
  parseJsonPath,
  unescapeJson,
  valueAtPath,
  walkObject,
} from './json.js';
import type { LabelsBuilder } from './labels-builder.js';
import { type KeyNamer, scanLogfmt } from './logfmt.js';
import { compilePattern } from './pattern.js';

/** A pipeline stage: returns the (possibly new) line, or undefined to drop it. */
export type Stage = (line: string, ts: bigint, b: LabelsBuilder) => string | undefined;

export const JSON_PARSER_ERR = 'JSONParserErr';

/**
 * How deeply `| json` follows nested objects. Loki's jsonparser has no limit, but finds the end of each
 * nested object by scanning it before walking into it, so a line costs its length times its depth; and
 * the walk here recurses. A line of `{"a":` ten thousand times overflowed the stack (a 500), and at the
 * default max_line_size of 256 KB could cost seconds of a single-threaded server. Real logs nest a few
 * levels; a deeper line is marked with JSONParserErr, in the words of Go's encoding/json.
 */
export const MAX_JSON_DEPTH = 128;
const JSON_TOO_DEEP = 'exceeded max depth';
export const LOGFMT_PARSER_ERR = 'LogfmtParserErr';

/** Loki's sanitizeLabelKey: trimmed, a leading digit prefixed with `_`, other invalid characters as `_`. */
export function sanitizeLabelKey(key: string, isPrefix: boolean): string {
  key = key.trim();
  if (key === '') return key;
  let out = isPrefix && key.charCodeAt(0) >= 48 && key.charCodeAt(0) <= 57 ? '_' : '';
  for (const ch of key) out += /^[a-zA-Z0-9_]$/.test(ch) ? ch : '_';
  return out;
}

/** Caches the label name a parser uses for each key it meets (sanitized, `_extracted` on conflict). */
function keyNamer(b: () => LabelsBuilder): (key: string) => string {
  const names = new Map<string, string>();
  return (key) => {
    let name = names.get(key);
    if (name === undefined) {
      name = sanitizeLabelKey(key, true);
      if (name !== '' && b().baseHas(name)) name += '_extracted';
      names.set(key, name);
    }
    return name;
  };
}

/** `hints`: when known, the only labels to extract (a field nobody reads is not made a string). */
export function jsonStage(stage: JsonStage, hints?: readonly string[]): () => Stage {
  if (stage.params.length > 0) return jsonExpressionStage(stage);
  // A nested object is walked only if a hinted label starts with its prefix (Loki's ShouldExtractPrefix: an
  // error inside an object it does not walk is not seen; an object whose prefix sanitizes to '' is walked).
  const objectWanted = (prefix: string) => !hints || hints.some((h) => h.startsWith(prefix));
  const hinted = hints && hintedNames(hintedKeyNames(hints));
  return () => {
    let builder!: LabelsBuilder;
    const topName = keyNamer(() => builder);
    const hintedName = hinted && hintedLabelName(hinted);
    // The label name prefix of the object being walked ('' at the top) and its nesting depth.
    let prefix = '';
    let depth = 1;
    const visitObject = (s: string, key: string, start: number, end: number): string | undefined => {
      if (depth === MAX_JSON_DEPTH) return JSON_TOO_DEEP;
      const inner = prefix === '' ? sanitizeLabelKey(key, true) : `${prefix}_${sanitizeLabelKey(key, false)}`;
      if (!objectWanted(inner)) return undefined;
      const outer = prefix;
      prefix = inner;
      depth++;
      const error = walkObject(s, start, end, visit);
      prefix = outer;
      depth--;
      return error;
    };
    const visit: FieldVisitor = (s, keyStart, keyEnd, keyEscaped, type, start, end) => {
      if (type === JsonType.Array || type === JsonType.Null) return undefined;
      // With hints, a plain top-level key is named (or skipped) before it is copied.
      if (prefix === '' && hinted && hintedName && type !== JsonType.Object && !keyEscaped) {
        const name = hintedName(matchedName(s, keyStart, keyEnd, hinted), builder);
        if (name === null) return undefined;
        if (name !== undefined) {
          if (builder.wants(name)) builder.set(name, labelValueAt(s, type, start, end));
          return undefined;
        }
      }
      const raw = s.slice(keyStart, keyEnd);
      const key = keyEscaped ? unescapeJson(raw)! : raw;
      if (type === JsonType.Object) return visitObject(s, key, start, end);
      let name: string;
      if (prefix === '') name = topName(key);
      else {
        name = `${prefix}_${sanitizeLabelKey(key, false)}`;
        if (builder.baseHas(name)) name += '_extracted';
      }
      if (name !== '' && builder.wants(name)) builder.set(name, labelValueAt(s, type, start, end));
      return undefined;
    };
    return (line, _ts, b) => {
      builder = b;
      prefix = '';
      depth = 1;
      const error = walkObject(line, 0, line.length, visit);
      if (error !== undefined) b.setError(JSON_PARSER_ERR, error);
      return line;
    };
  };
}

/** `json a="x.y[0]"`: only the named paths; a missing one is an empty label, objects and arrays as text. */
function jsonExpressionStage(stage: JsonStage): () => Stage {
  const paths = stage.params.map((p) => {
    const path = parseJsonPath(p.expression);
    if (!path) throw new LokiError('bad_data', 'parse_error', `parse error : cannot parse expression [${p.expression}]: syntax error`);
    return { name: p.name, path };
  });
  return () => (line, _ts, b) => {
    if (line === '') return line;
    const first = line[0];
    if (first !== '"' && first !== '{' && first !== '[') {
      b.setError(JSON_PARSER_ERR);
      return line;
    }
    const values: string[] = [];
    try {
      for (const { path } of paths) {
        const v = valueAtPath(line, path);
        values.push(v && v.type !== JsonType.Null ? line.slice(v.start, v.end) : '');
      }
    } catch (e) {
      // A line that starts like JSON but does not close is an error, with no labels (as recorded from Loki).
      if (!(e instanceof JsonWalkError)) throw e;
      b.setError(JSON_PARSER_ERR);
      return line;
    }
    paths.forEach(({ name }, i) => b.set(b.baseHas(name) ? `${name}_extracted` : name, values[i]!));
    return line;
  };
}

/**
 * The label names that hinted labels can be named from a key: each hint and, for an `_extracted` one, the
 * name before the suffix (a key clashing with a stream label gets it).
 */
export function hintedKeyNames(hints: readonly string[]): string[] {
  const names = new Set(hints);
  for (const h of hints) if (h.endsWith('_extracted')) names.add(h.slice(0, -'_extracted'.length));
  return [...names];
}

/**
 * Whether the raw key s[start, end) may be named one of `names` (from hintedKeyNames) once sanitized
 * (`http.status` -> `http_status`, a leading digit prefixed with `_`): the parser hints' test, made without
 * copying the key. Exact for printable ASCII keys; true for a key with spaces or other characters, which
 * only sanitizing tells (it trims and takes non-ASCII characters whole).
 */
export function keyMayBeNamed(s: string, start: number, end: number, names: readonly string[]): boolean {
  return matchedName(s, start, end, hintedNames(names)) !== NO_NAME;
}

const NO_NAME = -1;
const ONLY_SANITIZING_TELLS = -2;

/**
 * The label names hinted labels can be named from a key (hintedKeyNames), and `rawLengths`: 1 at the
 * length of each printable ASCII key that may sanitize to one of them (the name's, one less for a name
 * starting with `_`, which a leading digit gets). Most keys have another length and are told apart
 * without being read.
 */
interface HintedNames {
  readonly names: readonly string[];
  readonly rawLengths: Uint8Array;
}

function hintedNames(names: readonly string[]): HintedNames {
  const rawLengths = new Uint8Array(Math.max(0, ...names.map((n) => n.length)) + 1);
  for (const name of names) {
    rawLengths[name.length] = 1;
    if (name.length > 1 && name.charCodeAt(0) === 95) rawLengths[name.length - 1] = 1;
  }
  return { names, rawLengths };
}

/**
 * The index in `names` of the name the raw key s[start, end) sanitizes to, NO_NAME, or
 * ONLY_SANITIZING_TELLS for a key with spaces or non-ASCII characters.
 */
function matchedName(s: string, start: number, end: number, hinted: HintedNames): number {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) return ONLY_SANITIZING_TELLS;
  }
  return matchedAsciiName(s, start, end, hinted);
}

/**
 * matchedName of a key known to have no space and no character above U+007F (DEL, which matchedName
 * leaves to sanitizing, is named here as sanitizing names it: `_`).
 */
function matchedAsciiName(s: string, start: number, end: number, hinted: HintedNames): number {
  const length = end - start;
  if (length >= hinted.rawLengths.length || hinted.rawLengths[length] === 0) return NO_NAME;
  const { names } = hinted;
  for (let n = 0; n < names.length; n++) if (sanitizedKeyIs(s, start, end, names[n]!)) return n;
  return NO_NAME;
}

/**
 * A hinted parser's key naming for one stream: the label name of a key from its matchedName (with
 * `_extracted` when the stream has the name); null when no hinted label comes from the key; undefined
 * when only sanitizing the copied key can tell.
 */
function hintedLabelName(hinted: HintedNames): (matched: number, b: LabelsBuilder) => string | null | undefined {
  let labelNames: string[] | undefined;
  return (matched, b) => {
    if (matched === NO_NAME) return null;
    if (matched === ONLY_SANITIZING_TELLS) return undefined;
    labelNames ??= hinted.names.map((n) => (b.baseHas(n) ? `${n}_extracted` : n));
    return labelNames[matched]!;
  };
}

/** Whether the ASCII key s[start, end), without spaces, sanitizes to `name`. */
function sanitizedKeyIs(s: string, start: number, end: number, name: string): boolean {
  const first = s.charCodeAt(start);
  const offset = first >= 48 && first <= 57 ? 1 : 0;
  if (name.length !== end - start + offset || (offset === 1 && name.charCodeAt(0) !== 95)) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const word = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
    if ((word ? c : 95) !== name.charCodeAt(i - start + offset)) return false;
  }
  return true;
}

export function logfmtStage(stage: LogfmtStage, hints?: readonly string[]): () => Stage {
  // A bit per hinted label; past 30 labels scanning never stops early.
  const allHints = hints && hints.length <= 30 ? (1 << hints.length) - 1 : -1;
  const wanted = stage.params.length > 0 ? new Map(stage.params.map((p) => [p.expression, p.name])) : undefined;
  const hinted = !wanted && hints ? hintedNames(hintedKeyNames(hints)) : undefined;
  return () => {
    let b!: LabelsBuilder;
    const nameOf = keyNamer(() => b);
    const hintedName = hinted && hintedLabelName(hinted);
    // With hints, scanning stops once every wanted label has been seen (Loki's AllRequiredExtracted).
    let found = 0;
    const onPair = (key: string, value: string, knownName: string | undefined): boolean => {
      if (wanted) {
        const id = wanted.get(sanitizeLabelKey(key, true));
        if (id !== undefined) b.set(b.baseHas(id) ? `${id}_extracted` : id, value);
        return false;
      }
      const name = knownName ?? nameOf(key);
      if (name !== '') b.set(name, value);
      if (!hints) return false;
      const i = hints.indexOf(name);
      if (i >= 0 && i < 30) found |= 1 << i;
      return found === allHints;
    };
    // A key with a character above U+007F has its name told by sanitizing (hintedLabelName's undefined).
    const keyName: KeyNamer | undefined =
      hinted && hintedName && ((l, start, end, ascii) => hintedName(ascii ? matchedAsciiName(l, start, end, hinted) : ONLY_SANITIZING_TELLS, b));
    return (line, _ts, builder) => {
      b = builder;
      found = 0;
      if (wanted) for (const name of wanted.values()) if (!b.baseHas(name)) b.set(name, '');
      const error = scanLogfmt(line, onPair, keyName);
      if (error) b.setError(LOGFMT_PARSER_ERR, error);
      return line;
    };
  };
}

export function regexpStage(stage: RegexpStage): () => Stage {
  const re = compileGoRegex(stage.pattern, false);
  const names = [...stage.pattern.matchAll(/\(\?P?<([a-zA-Z_][a-zA-Z0-9_]*)>/g)].map((m) => m[1]!);
  return () => (line, _ts, b) => {
    const m = re.exec(line);
    if (!m) return line;
    for (const n of names) b.set(b.baseHas(n) ? `${n}_extracted` : n, m.groups?.[n] ?? '');
    return line;
  };
}

export function patternStage(stage: PatternStage): () => Stage {
  const pattern = compilePattern(stage.pattern);
  return () => (line, _ts, b) => {
    const captures = pattern.captures(line);
    for (let i = 0; i < captures.length; i++) {
      const n = pattern.names[i]!;
      b.set(b.baseHas(n) ? `${n}_extracted` : n, captures[i]!);
    }
    return line;
  };
}

/** `unpack`: the string fields of a JSON object (Promtail's pack stage) as labels; `_entry` becomes the line. */
export function unpackStage(): () => Stage {
  return () => (line, _ts, b) => {
    if (line === '') return line;
    let entry = line;
    try {
      eachObjectField(line, 0, line.length, (key, v) => {
        if (v.type !== JsonType.String) return;
        const value = labelValueOf(line, v);
        if (key === '_entry') {
          entry = value;
          return;
        }
        b.set(b.baseHas(key) ? `${key}_extracted` : key, value);
      });
    } catch (e) {
      if (!(e instanceof JsonWalkError)) throw e;
      b.setError(JSON_PARSER_ERR, e.message);
      return line;
    }
    return entry;
  };
}
