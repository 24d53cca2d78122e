import { goParseDurationSeconds, goParseFloat, humanBytes, type Labels } from '@loki-lite/shared';
import { ERROR_DETAILS_LABEL, ERROR_LABEL, LabelsBuilder } from '../logql/log/labels-builder.js';
import { jsonStage, logfmtStage } from '../logql/log/parsers.js';
import type { StreamResult } from '../shard/types.js';

/*
 * Logs Drilldown's detected fields and labels, as Loki computes them: fields from a sample of the newest
 * lines (structured metadata, the labels the query's own parsers made, then each line tried as JSON and
 * else as logfmt), labels from the streams' label values.
 */

export type DetectedFieldType = 'string' | 'int' | 'float' | 'boolean' | 'duration' | 'bytes';

export interface DetectedField {
  readonly label: string;
  readonly type: DetectedFieldType;
  readonly cardinality: number;
  /** Which parsers found it; null for structured metadata. */
  readonly parsers: string[] | null;
}

const INT = /^[+-]?\d+$/;

/** Loki's determineType: the first of int, float, boolean, duration, bytes that parses, else string. */
export function fieldType(value: string): DetectedFieldType {
  if (INT.test(value) && Number.isSafeInteger(Number(value))) return 'int';
  if (goParseFloat(value).ok) return 'float';
  if (/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) return 'boolean';
  if (goParseDurationSeconds(value).ok) return 'duration';
  if (humanBytes(value).ok) return 'bytes';
  return 'string';
}

interface FieldState {
  type: DetectedFieldType;
  values: Set<string>;
  parsers: string[] | null;
}

const SKIPPED = new Set([ERROR_LABEL, ERROR_DETAILS_LABEL, '__preserve_error__']);
const jsonOf = jsonStage({ kind: 'json', params: [] });
const logfmtOf = logfmtStage({ kind: 'logfmt', strict: false, keepEmpty: false, params: [] });

/** Each line's fields: the query's parsed labels, then JSON, else logfmt (Loki's parseEntry). */
function parseLine(line: string, streamLabels: Labels): { fields: Array<[string, string]>; parser: string | undefined } {
  for (const [parser, stage] of [
    ['json', jsonOf],
    ['logfmt', logfmtOf],
  ] as const) {
    const b = new LabelsBuilder(streamLabels);
    b.reset([]);
    stage()(line, 0n, b);
    if (b.hasError()) continue;
    // A bare logfmt key has no value: Loki 3's logfmt drops it unless --keep-empty.
    const fields = b
      .categorized()
      .parsed.filter((l) => l.value !== '')
      .map((l): [string, string] => [l.name, l.value]);
    return { fields, parser };
  }
  return { fields: [], parser: undefined };
}

/** The fields of the sampled lines (newest first), up to `limit` distinct field names. */
export function detectFields(streams: readonly StreamResult[], limit: number): DetectedField[] {
  const fields = new Map<string, FieldState>();
  const note = (name: string, value: string, parser: string | undefined, typeFromThis: boolean) => {
    if (SKIPPED.has(name)) return;
    let f = fields.get(name);
    if (!f) {
      if (fields.size >= limit) return;
      fields.set(name, (f = { type: fieldType(value), values: new Set(), parsers: parser ? [] : null }));
    } else if (typeFromThis) {
      f.type = fieldType(value);
    }
    if (parser && f.parsers && !f.parsers.includes(parser)) f.parsers.push(parser);
    f.values.add(value);
  };
  for (const s of streams) {
    // As Loki: a field's type is taken from its first value in each stream.
    const typed = new Set<string>();
    const firstInStream = (name: string) => (typed.has(name) ? false : (typed.add(name), true));
    for (const e of s.entries) {
      for (const l of e.structuredMetadata) note(l.name, l.value, undefined, firstInStream(l.name));
      const { fields: parsed, parser } = parseLine(e.line, s.labels);
      for (const l of e.parsed ?? []) if (l.value !== '') note(l.name, l.value, parser, firstInStream(l.name));
      for (const [name, value] of parsed) note(name, value, parser, firstInStream(name));
    }
  }
  return [...fields].map(([label, f]) => ({ label, type: f.type, cardinality: f.values.size, parsers: f.parsers && f.parsers.length > 0 ? f.parsers : null }));
}

/** The distinct values of one field in the sampled lines. */
export function detectedFieldValues(streams: readonly StreamResult[], name: string, limit: number): string[] {
  const values = new Set<string>();
  for (const s of streams) {
    for (const e of s.entries) {
      if (values.size >= limit) return [...values];
      const meta = e.structuredMetadata.find((l) => l.name === name) ?? e.parsed?.find((l) => l.name === name);
      if (meta) {
        values.add(meta.value);
        continue;
      }
      const hit = parseLine(e.line, s.labels).fields.find(([n]) => n === name);
      if (hit) values.add(hit[1]);
    }
  }
  return [...values];
}

/** Labels Loki always offers when present, whatever their values look like. */
const STATIC_LABELS = new Set(['cluster', 'namespace', 'instance', 'pod']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Loki's shouldRejectLabel: a label whose values are all IDs (numbers or UUIDs, except 0/1 flags). */
function looksLikeIds(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  if (values.length <= 2 && values.every((v) => v === '0' || v === '1')) return false;
  return values.every((v) => goParseFloat(v).ok || UUID.test(v));
}

/** The labels of the matching streams worth offering as filters, with their number of values. */
export function detectLabels(series: readonly Labels[]): Array<{ label: string; cardinality: number }> {
  const values = new Map<string, Set<string>>();
  for (const labels of series) {
    for (const l of labels) {
      let v = values.get(l.name);
      if (!v) values.set(l.name, (v = new Set()));
      v.add(l.value);
    }
  }
  const out: Array<{ label: string; cardinality: number }> = [];
  for (const [label, v] of values) {
    if (STATIC_LABELS.has(label) || !looksLikeIds([...v])) out.push({ label, cardinality: v.size });
  }
  return out.sort((a, b) => (a.label < b.label ? -1 : 1));
}
