import { type Label, NO_METADATA } from '@loki-lite/shared';
import { ByteReader, ByteWriter } from '../util/binary.js';
import type { Entry } from './entry.js';

/** Serializes entries (already sorted by timestamp) as an uncompressed block body. Reuses `w`. */
export function writeBlockBody(w: ByteWriter, entries: readonly Entry[]): Buffer {
  w.reset();
  let prev = entries.length > 0 ? entries[0]!.timestamp : 0n;
  w.i64(prev);
  for (const e of entries) {
    w.uvarint(Number(e.timestamp - prev));
    prev = e.timestamp;
    w.string(e.line);
    w.uvarint(e.structuredMetadata.length);
    for (const l of e.structuredMetadata) w.string(l.name).string(l.value);
  }
  return w.view();
}

/**
 * Walks an uncompressed block body entry by entry without materializing lines: `lineStart`/`lineEnd` index
 * into `buf`, so a line filter can test the bytes and only matching lines become strings.
 */
export class BlockCursor {
  private readonly r: ByteReader;
  private remaining: number;
  timestamp = 0n;
  lineStart = 0;
  lineEnd = 0;
  private metadataStart = 0;
  private metadataCount = 0;

  constructor(readonly buf: Buffer, entries: number) {
    this.r = new ByteReader(buf);
    this.remaining = entries;
    this.timestamp = entries > 0 ? this.r.i64() : 0n;
  }

  /** Advances to the next entry; false at the end of the block. */
  next(): boolean {
    if (this.remaining === 0) return false;
    this.remaining--;
    const r = this.r;
    const delta = r.uvarint();
    if (delta !== 0) this.timestamp += BigInt(delta);
    const len = r.uvarint();
    this.lineStart = r.pos;
    this.lineEnd = r.pos + len;
    r.pos = this.lineEnd;
    this.metadataCount = r.uvarint();
    this.metadataStart = r.pos;
    for (let i = 0; i < this.metadataCount * 2; i++) {
      const len = r.uvarint(); // read first: `r.pos += r.uvarint()` would add to the pos before the varint
      r.pos += len;
    }
    return true;
  }

  line(): string {
    return this.buf.toString('utf8', this.lineStart, this.lineEnd);
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
