import { compileGoRegex, LokiError } from '@loki-lite/shared';
import type { JsonStage, LogfmtStage, PatternStage, RegexpStage } from '../syntax/ast.js';
import { eachObjectField, JsonType, JsonWalkError, labelValueOf, parseJsonPath, valueAtPath, type JsonValue } from './json.js';
import type { LabelsBuilder } from './labels-builder.js';
import { scanLogfmt } from './logfmt.js';
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
  // A nested object is walked only if a hinted label can come from it (its labels are prefix_key).
  const objectWanted = (prefix: string) => !hints || hints.some((h) => h.startsWith(`${prefix}_`));
  return () => {
    let builder!: LabelsBuilder;
    const topName = keyNamer(() => builder);
    const visit = (line: string, prefix: string, key: string, v: JsonValue, depth: number): void => {
      if (v.type === JsonType.Object) {
        if (depth === MAX_JSON_DEPTH) throw new JsonWalkError(JSON_TOO_DEEP);
        const next = prefix === '' ? sanitizeLabelKey(key, true) : `${prefix}_${sanitizeLabelKey(key, false)}`;
        if (!objectWanted(next)) return;
        eachObjectField(line, v.start, v.end, (k, inner) => visit(line, next, k, inner, depth + 1));
        return;
      }
      if (v.type !== JsonType.String && v.type !== JsonType.Number && v.type !== JsonType.Boolean) return;
      let name: string;
      if (prefix === '') name = topName(key);
      else {
        name = `${prefix}_${sanitizeLabelKey(key, false)}`;
        if (builder.baseHas(name)) name += '_extracted';
      }
      if (name !== '' && builder.wants(name)) builder.set(name, labelValueOf(line, v));
    };
    return (line, _ts, b) => {
      builder = b;
      try {
        eachObjectField(line, 0, line.length, (k, v) => visit(line, '', k, v, 1));
      } catch (e) {
        if (!(e instanceof JsonWalkError)) throw e;
        b.setError(JSON_PARSER_ERR, e.message);
      }
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
 * Whether the raw key line[start, end) becomes `name` once sanitized (`http.status` -> `http_status`, a
 * leading digit prefixed with `_`), or `name` is its `_extracted` form: the parser hints' test, made
 * without copying the key.
 */
export function rawKeyMatches(line: string, start: number, end: number, name: string): boolean {
  const base = name.endsWith('_extracted') ? name.slice(0, -'_extracted'.length) : name;
  for (const n of base === name ? [name] : [name, base]) {
    let offset = 0;
    if (n.length === end - start + 1 && n[0] === '_') offset = 1; // a leading digit gained a '_'
    else if (n.length !== end - start) continue;
    let ok = true;
    for (let i = start; i < end && ok; i++) {
      const c = line.charCodeAt(i);
      const word = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
      ok = (word ? c : 95) === n.charCodeAt(i - start + offset);
    }
    if (ok) return true;
  }
  return false;
}

export function logfmtStage(stage: LogfmtStage, hints?: readonly string[]): () => Stage {
  // A bit per hinted label; past 30 labels scanning never stops early.
  const allHints = hints && hints.length <= 30 ? (1 << hints.length) - 1 : -1;
  const wanted = stage.params.length > 0 ? new Map(stage.params.map((p) => [p.expression, p.name])) : undefined;
  return () => {
    let builder!: LabelsBuilder;
    const nameOf = keyNamer(() => builder);
    return (line, _ts, b) => {
      builder = b;
      if (wanted) for (const name of wanted.values()) if (!b.baseHas(name)) b.set(name, '');
      // With hints, scanning stops once every wanted label has been seen (Loki's AllRequiredExtracted).
      let found = 0;
      const error = scanLogfmt(line, (key, value) => {
        if (wanted) {
          const id = wanted.get(sanitizeLabelKey(key, true));
          if (id !== undefined) b.set(b.baseHas(id) ? `${id}_extracted` : id, value);
          return false;
        }
        const name = nameOf(key);
        if (name !== '') b.set(name, value);
        if (!hints) return false;
        const i = hints.indexOf(name);
        if (i >= 0 && i < 30) found |= 1 << i;
        return found === allHints;
      }, wanted || !hints ? undefined : (l, start, end) => hints.some((h) => rawKeyMatches(l, start, end, h)));
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
