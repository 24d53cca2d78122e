import { type EntryColumns, type Label, NO_METADATA } from '@loki-lite/shared';
import { ByteReader, ByteWriter, compareHalves, copyBytes, readI64 } from '../util/binary.js';
import type { Entry } from './entry.js';

/*
 * A block body is a sequence of entries, each: i64 timestamp, uvarint line length, line bytes, uvarint
 * metadata pair count, then (uvarint length, bytes) for each name and value. The head block of a chunk is
 * kept in exactly this form, so appending an entry serializes it once and a sorted head is compressed as is.
 */

/** Serializes one entry onto `w`. */
export function appendEntry(w: ByteWriter, e: Entry): void {
  w.i64(e.timestamp).string(e.line).uvarint(e.structuredMetadata.length);
  for (const l of e.structuredMetadata) w.string(l.name).string(l.value);
}

/** Serializes entry k of push columns onto `w`. */
export function appendRawEntry(w: ByteWriter, columns: EntryColumns, k: number, metadata: readonly Label[]): void {
  w.i64FromParts(columns.seconds, columns.nanos, k).bytesFrom(columns.buf, columns.starts[k]!, columns.ends[k]!).uvarint(metadata.length);
  // An index loop: for-of allocates an iterator per entry even over the shared empty array.
  for (let k = 0; k < metadata.length; k++) w.string(metadata[k]!.name).string(metadata[k]!.value);
}

/** A block body of `entries`, which the caller has sorted. */
export function encodeBlockBody(entries: readonly Entry[]): Buffer {
  const w = new ByteWriter(entries.reduce((n, e) => n + e.line.length + 16, 16));
  for (const e of entries) appendEntry(w, e);
  return Buffer.from(w.view());
}

/**
 * Walks a block body entry by entry without materializing lines: `lineStart`/`lineEnd` index into `buf`,
 * so a line filter can test the bytes and only matching lines become strings.
 */
export class BlockCursor {
  private readonly r: ByteReader;
  /** Offset of the current entry's first byte (its timestamp), and of the byte after its last. */
  entryStart = 0;
  entryEnd = 0;
  lineStart = 0;
  lineEnd = 0;
  private metadataStart = 0;
  private metadataCount = 0;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.r = new ByteReader(buf, start, end);
  }

  /** Advances to the next entry; false at the end of the block. */
  next(): boolean {
    const r = this.r;
    if (r.remaining === 0) return false;
    this.entryStart = r.pos;
    r.skip(8); // the timestamp, read only when asked for
    const len = r.uvarint();
    this.lineStart = r.pos;
    this.lineEnd = r.pos + len;
    r.pos = this.lineEnd;
    this.metadataCount = r.uvarint();
    this.metadataStart = r.pos;
    for (let i = 0; i < this.metadataCount * 2; i++) {
      const n = r.uvarint(); // read first: `r.pos += r.uvarint()` would add to the pos before the varint
      r.pos += n;
    }
    this.entryEnd = r.pos;
    return true;
  }

  /** The current entry's timestamp (a BigInt is made on each call: read it once). */
  get timestamp(): bigint {
    return readI64(this.buf, this.entryStart);
  }

  line(): string {
    return this.buf.toString('utf8', this.lineStart, this.lineEnd);
  }

  get hasMetadata(): boolean {
    return this.metadataCount > 0;
  }

  structuredMetadata(): readonly Label[] {
    if (this.metadataCount === 0) return NO_METADATA;
    const r = new ByteReader(this.buf, this.metadataStart);
    const out: Label[] = [];
    for (let i = 0; i < this.metadataCount; i++) out.push({ name: r.string(), value: r.string() });
    return out;
  }

  entry(): Entry {
    return { timestamp: this.timestamp, line: this.line(), structuredMetadata: this.structuredMetadata() };
  }
}

/**
 * Reorders a block body by timestamp (stable: equal timestamps keep their order) by copying each entry's
 * bytes to its place. Used when out-of-order entries were appended to a head block. Timestamps are
 * compared as their two 32-bit halves, straight from the bytes: no BigInt or object per entry.
 */
export function sortBlockBody(body: Buffer): Buffer {
  let count = 0;
  const r = new ByteReader(body);
  while (r.remaining > 0) {
    skipEntry(r);
    count++;
  }
  const starts = new Uint32Array(count + 1);
  const high = new Int32Array(count);
  const low = new Uint32Array(count);
  r.pos = 0;
  for (let i = 0; i < count; i++) {
    starts[i] = r.pos;
    low[i] = body.readUInt32LE(r.pos);
    high[i] = body.readInt32LE(r.pos + 4);
    skipEntry(r);
  }
  starts[count] = body.length;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => compareHalves(high[a]!, low[a]!, high[b]!, low[b]!) || a - b);
  const out = Buffer.allocUnsafe(body.length);
  let pos = 0;
  for (let k = 0; k < count; k++) {
    const i = order[k]!;
    pos += copyBytes(body, starts[i]!, starts[i + 1]!, out, pos);
  }
  return out;
}

/** The earliest and latest timestamps of a block body with at least one entry, in any order. */
export function bodyTimeRange(body: Buffer): { minTs: bigint; maxTs: bigint } {
  const cursor = new BlockCursor(body);
  cursor.next();
  let minTs = cursor.timestamp;
  let maxTs = minTs;
  while (cursor.next()) {
    const ts = cursor.timestamp;
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
  }
  return { minTs, maxTs };
}

/** Moves `r` from the start of a block-body entry to the next one. */
export function skipEntry(r: ByteReader): void {
  r.pos += 8;
  const lineLength = r.uvarint();
  r.pos += lineLength;
  for (let pairs = r.uvarint() * 2; pairs > 0; pairs--) {
    const n = r.uvarint();
    r.pos += n;
  }
}
