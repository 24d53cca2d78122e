import protobuf from 'protobufjs/minimal.js';
import type { Label } from '../labels/labels.js';
import { NANOS_PER_SECOND } from '../logql-time/timestamp.js';
import { NO_METADATA, type PushEntry, type PushRequest, type PushStream } from './types.js';

/*
 * logproto.PushRequest (Loki's push.proto), read and written with protobufjs' wire Reader/Writer straight
 * into our own types, so each entry costs one object instead of a generated message plus a conversion.
 *
 *   PushRequest      { repeated StreamAdapter streams = 1; }
 *   StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
 *   EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
 *                      repeated LabelPairAdapter structuredMetadata = 3; }
 *   LabelPairAdapter { string name = 1; string value = 2; }
 *   Timestamp        { int64 seconds = 1; int32 nanos = 2; }
 */

const { Reader, Writer } = protobuf;
type ProtoReader = protobuf.Reader;
type ProtoWriter = protobuf.Writer;

const WIRE_LEN = 2;

export function decodePushRequestProto(buf: Uint8Array): PushRequest {
  const r = Reader.create(buf);
  const streams: PushStream[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_LEN) streams.push(readStream(r, r.uint32() + r.pos));
    else r.skipType(tag & 7);
  }
  return { streams };
}

function readStream(r: ProtoReader, end: number): PushStream {
  let labels = '';
  const entries: PushEntry[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: labels = r.string(); break;
      case 2: entries.push(readEntry(r, r.uint32() + r.pos)); break;
      default: r.skipType(tag & 7);
    }
  }
  return { labels, entries };
}

function readEntry(r: ProtoReader, end: number): PushEntry {
  let timestamp = 0n;
  let line = '';
  let structuredMetadata: Label[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: timestamp = readTimestamp(r, r.uint32() + r.pos); break;
      case 2: line = r.string(); break;
      case 3: (structuredMetadata ??= []).push(readLabelPair(r, r.uint32() + r.pos)); break;
      default: r.skipType(tag & 7);
    }
  }
  return { timestamp, line, structuredMetadata: structuredMetadata ?? NO_METADATA };
}

function readTimestamp(r: ProtoReader, end: number): bigint {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: seconds = Number(r.int64()); break;
      case 2: nanos = r.int32(); break;
      default: r.skipType(tag & 7);
    }
  }
  return BigInt(seconds) * NANOS_PER_SECOND + BigInt(nanos);
}

function readLabelPair(r: ProtoReader, end: number): Label {
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: name = r.string(); break;
      case 2: value = r.string(); break;
      default: r.skipType(tag & 7);
    }
  }
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
  let seconds = e.timestamp / NANOS_PER_SECOND;
  let nanos = e.timestamp % NANOS_PER_SECOND;
  if (nanos < 0n) {
    // protobuf Timestamp keeps nanos in [0, 1e9) also before the epoch.
    seconds -= 1n;
    nanos += NANOS_PER_SECOND;
  }
  w.uint32((1 << 3) | WIRE_LEN).fork();
  if (seconds !== 0n) w.uint32(1 << 3).int64(Number(seconds));
  if (nanos !== 0n) w.uint32(2 << 3).int32(Number(nanos));
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
