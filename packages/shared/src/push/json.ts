import { type Label, labelsFromRecord, labelsToRecord } from '../labels/labels.js';
import { parseLabels } from '../labels/parse.js';
import { printLabels } from '../labels/print.js';
import { LokiError } from '../errors.js';
import { EntryBatch } from './entry-batch.js';
import { type DecodedPushRequest, type DecodedPushStream, type PushEntry, type PushRequest, type PushStream } from './types.js';
import { NO_METADATA } from '../labels/labels.js';

/*
 * Loki's v1 JSON push body:
 *   {"streams":[{"stream":{"app":"x"},"values":[["<unix ns as string>","line",{"trace_id":"..."}]]}]}
 * The optional third element of a value is the entry's structured metadata.
 */

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function bad(message: string): never {
  throw new LokiError('bad_data', 'invalid_json', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringRecord(v: unknown, where: string): Record<string, string> {
  if (!isObject(v)) bad(`${where}: expected an object of strings`);
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') bad(`${where}: value of "${k}" is not a string`);
  return v as Record<string, string>;
}

export function decodePushRequestJson(text: string): DecodedPushRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    bad(`invalid JSON push body: ${(e as Error).message}`);
  }
  if (!isObject(doc)) bad('invalid JSON push body: expected an object with "streams"');
  const rawStreams = doc.streams ?? [];
  if (!Array.isArray(rawStreams)) bad('invalid JSON push body: "streams" is not an array');
  return { streams: rawStreams.map(decodeStream) };
}

function decodeStream(raw: unknown, i: number): DecodedPushStream {
  const s = decodeStreamEntries(raw, i);
  return { labels: s.labels, entries: EntryBatch.fromEntries(s.entries) };
}

function decodeStreamEntries(raw: unknown, i: number): PushStream {
  if (!isObject(raw)) bad(`streams[${i}]: expected an object`);
  const labels = printLabels(labelsFromRecord(stringRecord(raw.stream ?? {}, `streams[${i}].stream`)));
  const values = raw.values ?? [];
  if (!Array.isArray(values)) bad(`streams[${i}].values: expected an array`);
  const entries: PushEntry[] = new Array(values.length);
  for (let j = 0; j < values.length; j++) entries[j] = decodeValue(values[j], i, j);
  return { labels, entries };
}

function decodeValue(v: unknown, i: number, j: number): PushEntry {
  const where = `streams[${i}].values[${j}]`;
  if (!Array.isArray(v) || v.length < 2 || v.length > 3) bad(`${where}: expected [timestamp, line] or [timestamp, line, metadata]`);
  const [ts, line, meta] = v as [unknown, unknown, unknown];
  if (typeof ts !== 'string') bad(`${where}: the timestamp must be a string of Unix nanoseconds`);
  if (!/^-?\d{1,19}$/.test(ts)) bad(`${where}: strconv.ParseInt: parsing ${JSON.stringify(ts)}: invalid syntax`);
  const timestamp = BigInt(ts);
  if (timestamp > INT64_MAX || timestamp < INT64_MIN) bad(`${where}: strconv.ParseInt: parsing ${JSON.stringify(ts)}: value out of range`);
  if (typeof line !== 'string') bad(`${where}: the log line must be a string`);
  const structuredMetadata: readonly Label[] = meta === undefined ? NO_METADATA : labelsFromRecord(stringRecord(meta, `${where}[2]`));
  return { timestamp, line, structuredMetadata };
}

/** Encodes a PushRequest as Loki's v1 JSON body. */
export function encodePushRequestJson(req: PushRequest): string {
  return JSON.stringify({
    streams: req.streams.map((s) => ({
      stream: labelsToRecord(parseLabels(s.labels)),
      values: s.entries.map((e) =>
        e.structuredMetadata.length > 0 ? [e.timestamp.toString(), e.line, labelsToRecord(e.structuredMetadata)] : [e.timestamp.toString(), e.line],
      ),
    })),
  });
}
