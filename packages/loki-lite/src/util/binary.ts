import { writeInt64Parts } from '@loki-lite/shared';
/**
 * A growable little-endian byte writer and a bounds-checked reader, used by the chunk, index and WAL codecs.
 * Strings are UTF-8 with a uvarint length prefix. Unsigned varints are limited to 2^53 (JS numbers).
 */
/*
 * 64-bit integers go through one BigInt64Array and its bytes: Buffer's readBigInt64LE/writeBigInt64LE are
 * written in JavaScript with BigInt shifts, several times slower and allocating on every call.
 */
const I64 = new BigInt64Array(1);
const I64_BYTES = new Uint8Array(I64.buffer);

/** The little-endian i64 at buf[pos] (unchecked), through a typed-array view: one BigInt, no arithmetic. */
export function readI64(buf: Uint8Array, pos: number): bigint {
  I64_BYTES[0] = buf[pos]!;
  I64_BYTES[1] = buf[pos + 1]!;
  I64_BYTES[2] = buf[pos + 2]!;
  I64_BYTES[3] = buf[pos + 3]!;
  I64_BYTES[4] = buf[pos + 4]!;
  I64_BYTES[5] = buf[pos + 5]!;
  I64_BYTES[6] = buf[pos + 6]!;
  I64_BYTES[7] = buf[pos + 7]!;
  return I64[0]!;
}

/** Below this many bytes a plain loop beats Buffer#copy, which allocates a Uint8Array view per call. */
const SHORT_COPY_BYTES = 256;

/**
 * Copies src[start, end) to dst at `at`; returns the byte count. Log lines are mostly short, and on the
 * ingest path this runs once per line, so short copies avoid Buffer#copy's per-call view allocation.
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  const n = end - start;
  if (n < SHORT_COPY_BYTES) {
    for (let i = start; i < end; i++) dst[at++] = src[i]!;
  } else {
    dst.set(src.subarray(start, end), at);
  }
  return n;
}

/** The little-endian int32 at buf[pos], from its bytes (Buffer#readInt32LE checks bounds and is slower). */
export function int32At(buf: Uint8Array, pos: number): number {
  return (buf[pos + 3]! << 24) | (buf[pos + 2]! << 16) | (buf[pos + 1]! << 8) | buf[pos]!;
}

/** Bytes [start, end) of buf. */
export interface LineBytes {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
}

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /** Bytes that fit before the buffer has to grow. */
  get capacity(): number {
    return this.buf.length;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  i64(v: bigint): this {
    this.ensure(8);
    I64[0] = v;
    const b = this.buf;
    const p = this.pos;
    b[p] = I64_BYTES[0]!;
    b[p + 1] = I64_BYTES[1]!;
    b[p + 2] = I64_BYTES[2]!;
    b[p + 3] = I64_BYTES[3]!;
    b[p + 4] = I64_BYTES[4]!;
    b[p + 5] = I64_BYTES[5]!;
    b[p + 6] = I64_BYTES[6]!;
    b[p + 7] = I64_BYTES[7]!;
    this.pos = p + 8;
    return this;
  }

  /** Entry k's timestamp of seconds/nanos columns as a little-endian i64, without a BigInt (see writeInt64Parts). */
  i64FromParts(seconds: Float64Array, nanos: Int32Array, k: number): this {
    this.ensure(8);
    writeInt64Parts(this.buf, this.pos, seconds, nanos, k);
    this.pos += 8;
    return this;
  }

  /** The buffer written to (it is replaced when the writer grows): bytes [0, length) are the data. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** The i64 written at offset `at`. */
  i64At(at: number): bigint {
    return readI64(this.buf, at);
  }

  /** Compares the i64s written at offsets a and b (negative when a's is smaller), straight from the bytes. */
  compareI64At(a: number, b: number): number {
    const buf = this.buf;
    return compareHalves(int32At(buf, a + 4), int32At(buf, a) >>> 0, int32At(buf, b + 4), int32At(buf, b) >>> 0);
  }

  /** The line of the block-body entry written at `at` (an i64 timestamp, then the length-prefixed line). */
  lineAt(at: number): LineBytes {
    const r = new ByteReader(this.buf, at + 8, this.pos);
    const length = r.uvarint();
    return { buf: this.buf, start: r.pos, end: r.pos + length };
  }

  uvarint(v: number): this {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = v % 0x80 | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Length-prefixed copy of src[start, end), without creating a view of it. */
  bytesFrom(src: Buffer, start: number, end: number): this {
    const n = end - start;
    this.uvarint(n);
    this.ensure(n);
    this.pos += copyBytes(src, start, end, this.buf, this.pos);
    return this;
  }

  /** Length-prefixed UTF-8 string, written in place without an intermediate Buffer. */
  string(s: string): this {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; reserve that, write, then back-fill the exact length.
    const max = s.length * 3;
    this.ensure(max + 5);
    const lenBytes = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : 4;
    const start = this.pos + lenBytes;
    const written = this.buf.write(s, start, 'utf8');
    let v = written;
    for (let i = 0; i < lenBytes - 1; i++) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
    this.pos = start + written;
    return this;
  }

  /** Patches a u32 written earlier. */
  setU32(offset: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, offset);
  }

  /** The bytes written so far (a view; copy it if the writer is reused). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}

export class CorruptDataError extends Error {
  override readonly name = 'CorruptDataError';
}

/**
 * Compares two int64s given as halves, the high one signed and the low one unsigned: negative when (hi, lo)
 * is the smaller, 0 when equal. Block bodies store timestamps so; comparing halves makes no BigInt.
 */
export function compareHalves(hi: number, lo: number, otherHi: number, otherLo: number): number {
  return hi - otherHi || lo - otherLo;
}

export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new CorruptDataError(`unexpected end of data at offset ${this.pos} (need ${n} bytes)`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = readI64(this.buf, this.pos);
    this.pos += 8;
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  uvarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new CorruptDataError(`varint too long at offset ${this.pos}`);
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    const n = this.uvarint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
