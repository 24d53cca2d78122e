import { crc32 } from 'node:zlib';
import { EntryBatch, EntryColumns, type Label, nanosPartOf, NO_METADATA, secondsOf } from '@loki-lite/shared';
import { ByteReader, ByteWriter, CorruptDataError } from '../../util/binary.js';

/** See README.md beside this file. */
export const RECORD_ENTRIES = 1;
export const RECORD_PUSH_BODY = 2;
export const RECORD_VERSION = 1;
/** Push-body records are at version 2: they name the service_name sources instead of mapping each stream. */
export const PUSH_RECORD_VERSION = 2;
export const RECORD_HEADER_SIZE = 8;

export interface WalStream {
  readonly labels: string;
  readonly entries: EntryBatch;
}

/** Entries the ingester stored, stream by stream. */
export interface WalEntriesRecord {
  readonly kind: 'entries';
  readonly tenant: string;
  readonly streams: readonly WalStream[];
}

/** A protobuf push body (snappy-compressed, as received) all of whose entries were accepted. */
export interface WalPushRecord {
  readonly kind: 'push';
  readonly tenant: string;
  /**
   * Replay must put entries back into the streams they were stored under, which differ from the body's label
   * strings where the distributor added service_name. Version 2 records the rule it applied: the label
   * names service_name was taken from (limits_config.discover_service_name; empty when off).
   */
  readonly serviceNameFrom: readonly string[];
  /** Version 1 records mapped each such label string to the labels stored instead; empty in version 2. */
  readonly relabel: ReadonlyMap<string, string>;
  readonly snappyProtobuf: Buffer;
}

const NO_RELABEL: ReadonlyMap<string, string> = new Map();

export type WalRecord = WalEntriesRecord | WalPushRecord;

/** Encodes an entries record with its length and CRC header, ready to append to a segment. */
export function encodeRecord(w: ByteWriter, rec: Omit<WalEntriesRecord, 'kind'>): Buffer {
  w.reset();
  w.u32(0).u32(0); // header, patched below
  w.u8(RECORD_ENTRIES).u8(RECORD_VERSION).string(rec.tenant).uvarint(rec.streams.length);
  for (const s of rec.streams) {
    const b = s.entries;
    const { seconds, nanos, starts, ends, buf } = b.columns;
    w.string(s.labels).uvarint(b.count);
    for (let i = 0; i < b.count; i++) {
      const k = b.first + i;
      const meta = b.structuredMetadata(i);
      w.i64FromParts(seconds, nanos, k).bytesFrom(buf, starts[k]!, ends[k]!).uvarint(meta.length);
      for (const l of meta) w.string(l.name).string(l.value);
    }
  }
  return finishRecord(w);
}

/**
 * Encodes a push-body record as two buffers to write one after the other: the header with the tenant and
 * service_name sources, then the body itself, not copied (it is nearly all of what the WAL writes).
 */
export function encodePushRecord(w: ByteWriter, tenant: string, serviceNameFrom: readonly string[], snappyProtobuf: Buffer): Buffer[] {
  w.reset();
  w.u32(0).u32(0);
  w.u8(RECORD_PUSH_BODY).u8(PUSH_RECORD_VERSION).string(tenant).uvarint(serviceNameFrom.length);
  for (const name of serviceNameFrom) w.string(name);
  const head = w.view();
  const prefix = head.subarray(RECORD_HEADER_SIZE);
  w.setU32(0, prefix.length + snappyProtobuf.length);
  w.setU32(4, crc32(snappyProtobuf, crc32(prefix)));
  return [Buffer.from(head), snappyProtobuf];
}

function finishRecord(w: ByteWriter): Buffer {
  const all = w.view();
  const payload = all.subarray(RECORD_HEADER_SIZE);
  w.setU32(0, payload.length);
  w.setU32(4, crc32(payload));
  return Buffer.from(all);
}

export function decodeRecordPayload(payload: Buffer): WalRecord {
  const r = new ByteReader(payload);
  const type = r.u8();
  const version = r.u8();
  const known = type === RECORD_ENTRIES ? version === RECORD_VERSION : type === RECORD_PUSH_BODY && (version === 1 || version === PUSH_RECORD_VERSION);
  if (!known) throw new CorruptDataError(`unknown WAL record type ${type} version ${version}`);
  const tenant = r.string();
  if (type === RECORD_PUSH_BODY) {
    const serviceNameFrom: string[] = [];
    let relabel = NO_RELABEL;
    if (version === 1) {
      const map = new Map<string, string>();
      for (let i = r.uvarint(); i > 0; i--) map.set(r.string(), r.string());
      relabel = map;
    } else {
      for (let i = r.uvarint(); i > 0; i--) serviceNameFrom.push(r.string());
    }
    return { kind: 'push', tenant, serviceNameFrom, relabel, snappyProtobuf: payload.subarray(r.pos) };
  }
  const streams: WalStream[] = new Array(r.uvarint());
  // Lines stay in the payload buffer; the batches refer to them by offset.
  const columns = new EntryColumns(payload);
  for (let i = 0; i < streams.length; i++) {
    const labels = r.string();
    const count = r.uvarint();
    const first = columns.count;
    for (let j = 0; j < count; j++) {
      const timestamp = r.i64();
      const lineLength = r.uvarint();
      const lineStart = r.pos;
      r.pos += lineLength;
      const n = r.uvarint();
      let structuredMetadata: readonly Label[] = NO_METADATA;
      if (n > 0) {
        const pairs: Label[] = new Array(n);
        for (let k = 0; k < n; k++) pairs[k] = { name: r.string(), value: r.string() };
        structuredMetadata = pairs;
      }
      if (r.pos > payload.length) throw new CorruptDataError('WAL record entry past the end of the record');
      columns.add(secondsOf(timestamp), nanosPartOf(timestamp), lineStart, lineStart + lineLength, structuredMetadata);
    }
    streams[i] = { labels, entries: new EntryBatch(columns, first, count) };
  }
  return { kind: 'entries', tenant, streams };
}

export interface ScanResult {
  readonly records: WalRecord[];
  /** Offset just past the last good record. */
  readonly goodLength: number;
  /** Why scanning stopped before the end, if it did. */
  readonly torn?: string;
}

/** Reads every intact record of a segment or checkpoint file's bytes. */
export function scanRecords(bytes: Buffer): ScanResult {
  const records: WalRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < RECORD_HEADER_SIZE) return { records, goodLength: pos, torn: `truncated record header at offset ${pos}` };
    const len = bytes.readUInt32LE(pos);
    const crc = bytes.readUInt32LE(pos + 4);
    const end = pos + RECORD_HEADER_SIZE + len;
    if (end > bytes.length) return { records, goodLength: pos, torn: `truncated record at offset ${pos}` };
    const payload = bytes.subarray(pos + RECORD_HEADER_SIZE, end);
    if (crc32(payload) !== crc) return { records, goodLength: pos, torn: `checksum mismatch in record at offset ${pos}` };
    records.push(decodeRecordPayload(payload));
    pos = end;
  }
  return { records, goodLength: pos };
}
