import protobuf from 'protobufjs/minimal.js';
import { LokiError } from '../errors.js';
import type { Label } from '../labels/labels.js';
import { WireReader } from './protobuf-reader.js';
import { EntryBatch, EntryColumns } from './entry-batch.js';
import { nanosPartOf, secondsOf } from './timestamp-parts.js';
import { type DecodedPushRequest, type DecodedPushStream, type PushEntry, type PushRequest } from './types.js';
import { NO_METADATA } from '../labels/labels.js';

/*
 * logproto.PushRequest (Loki's push.proto). Decoding runs once per log line on the ingest path, so it reads
 * the buffer directly (WireReader) into our own types: one object per entry, no generated message and no
 * conversion (bench/README.md, "push decode", has the measurement). Encoding, used by clients and tests,
 * uses protobufjs' Writer.
 *
 *   PushRequest      { repeated StreamAdapter streams = 1; }
 *   StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
 *   EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
 *                      repeated LabelPairAdapter structuredMetadata = 3; }
 *   LabelPairAdapter { string name = 1; string value = 2; }
 *   Timestamp        { int64 seconds = 1; int32 nanos = 2; }
 */

const { Writer } = protobuf;
type ProtoWriter = protobuf.Writer;

const WIRE_LEN = 2;

/** Decodes a PushRequest. Throws LokiError (bad_data) for a malformed message. */
export function decodePushRequestProto(bytes: Uint8Array): DecodedPushRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new WireReader(buf);
  // Every stream's entries go into one set of columns; about one entry per 128 bytes before any growth.
  const columns = new EntryColumns(buf, Math.max(16, buf.length >> 7));
  const streams: DecodedPushStream[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) streams.push(readStream(r, r.delimitedEnd(), columns));
    else r.skip(tag & 7);
  }
  r.checkWithin(r.end);
  return { streams };
}

function readStream(r: WireReader, end: number, columns: EntryColumns): DecodedPushStream {
  let labels = '';
  const first = columns.count;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((2 << 3) | WIRE_LEN)) readEntry(r, r.delimitedEnd(), columns);
    else if (tag === ((1 << 3) | WIRE_LEN)) labels = r.string();
    else r.skip(tag & 7);
  }
  r.checkWithin(end);
  return { labels, entries: new EntryBatch(columns, first, columns.count - first) };
}

/**
 * The seconds a Timestamp may hold: 0001-01-01 up to 10000-01-01. Loki decodes it with gogo's
 * StdTimeUnmarshal, whose validateTimestamp refuses the push outside them; and every later step here
 * (validation's error texts, queries) works with dates that JavaScript's Date can hold.
 */
const MIN_VALID_SECONDS = -62135596800;
const MAX_VALID_SECONDS = 253402300800;

/** The Timestamp being read, left here by readTimestamp for readEntry (no object returned per entry). */
let tsSeconds = 0;
let tsNanos = 0;

/** Adds one entry to `out`: its line stays in the message buffer, referenced by offsets. */
function readEntry(r: WireReader, end: number, out: EntryColumns): void {
  tsSeconds = 0;
  tsNanos = 0;
  let lineStart = 0;
  let lineEnd = 0;
  let structuredMetadata: Label[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((2 << 3) | WIRE_LEN)) {
      lineStart = r.bytesStart();
      lineEnd = r.pos;
    } else if (tag === ((1 << 3) | WIRE_LEN)) readTimestamp(r, r.delimitedEnd());
    else if (tag === ((3 << 3) | WIRE_LEN)) (structuredMetadata ??= []).push(readLabelPair(r, r.delimitedEnd()));
    else r.skip(tag & 7);
  }
  r.checkWithin(end);
  out.add(tsSeconds, tsNanos, lineStart, lineEnd, structuredMetadata ?? NO_METADATA);
}

function readTimestamp(r: WireReader, end: number): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 1 << 3) tsSeconds = r.int64();
    else if (tag === 2 << 3) tsNanos = r.uint32() | 0;
    else r.skip(tag & 7);
  }
  r.checkWithin(end);
  if (tsSeconds < MIN_VALID_SECONDS) invalidTimestamp('before 0001-01-01');
  if (tsSeconds >= MAX_VALID_SECONDS) invalidTimestamp('after 10000-01-01');
}

/** gogo's words, with the Timestamp as protobuf's text format prints it. */
function invalidTimestamp(bound: string): never {
  const text = `seconds:${tsSeconds}${tsNanos !== 0 ? ` nanos:${tsNanos}` : ''}`;
  throw new LokiError('bad_data', 'invalid_timestamp', `timestamp: ${text} ${bound}`);
}

function readLabelPair(r: WireReader, end: number): Label {
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) name = r.string();
    else if (tag === ((2 << 3) | WIRE_LEN)) value = r.string();
    else r.skip(tag & 7);
  }
  r.checkWithin(end);
  return { name, value };
}

/** Encodes a PushRequest as protobuf (not yet snappy-compressed). */
export function encodePushRequestProto(req: PushRequest): Uint8Array {
  const w = Writer.create();
  for (const s of req.streams) {
    w.uint32((1 << 3) | WIRE_LEN).fork();
    w.uint32((1 << 3) | WIRE_LEN).string(s.labels);
    for (const e of s.entries) writeEntry(w, e);
    w.ldelim();
  }
  return w.finish();
}

function writeEntry(w: ProtoWriter, e: PushEntry): void {
  w.uint32((2 << 3) | WIRE_LEN).fork();
  // protobuf Timestamp keeps nanos in [0, 1e9) also before the epoch.
  const seconds = secondsOf(e.timestamp);
  const nanos = nanosPartOf(e.timestamp);
  w.uint32((1 << 3) | WIRE_LEN).fork();
  if (seconds !== 0) w.uint32(1 << 3).int64(seconds);
  if (nanos !== 0) w.uint32(2 << 3).int32(nanos);
  w.ldelim();
  w.uint32((2 << 3) | WIRE_LEN).string(e.line);
  for (const l of e.structuredMetadata) {
    w.uint32((3 << 3) | WIRE_LEN).fork();
    w.uint32((1 << 3) | WIRE_LEN).string(l.name);
    w.uint32((2 << 3) | WIRE_LEN).string(l.value);
    w.ldelim();
  }
  w.ldelim();
}
