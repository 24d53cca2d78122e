import { LokiError } from '../errors.js';

/**
 * A minimal protobuf wire reader over a Buffer: varints, length-delimited fields and field skipping. The
 * push decoder uses it instead of a generic reader because it runs once per log line; see bench/README.md
 * (push decode) for the measurement that justifies it.
 */
export class WireReader {
  pos = 0;

  constructor(
    readonly buf: Buffer,
    readonly end = buf.length,
  ) {}

  private fail(what: string): never {
    throw new LokiError('bad_data', 'invalid_protobuf', `proto: ${what} at offset ${this.pos}`);
  }

  /** A varint that fits in 32 bits (tags, lengths, int32 values). */
  uint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    let v = b & 0x7f;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v |= (b & 0x7f) << 7;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v |= (b & 0x7f) << 14;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v |= (b & 0x7f) << 21;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v = (v | ((b & 0x0f) << 28)) >>> 0;
    if (b < 0x80) return v;
    // int32 fields with negative values are sign-extended to 10 bytes; the low 32 bits are already read.
    for (let i = 0; i < 5; i++) if (buf[this.pos++]! < 0x80) return v;
    return this.fail('varint overflow');
  }

  /** A signed 64-bit varint as a number (exact up to 2^53, which covers Unix seconds for any date). */
  int64(): number {
    let result = 0;
    let mul = 1;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.pos++]!;
      if (i === 9 || (i >= 7 && b >= 0x80)) {
        // Beyond 53 bits: negative values (two's complement in 10 bytes) take the exact, slower path.
        this.pos = start;
        return this.int64Slow();
      }
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.fail('varint overflow');
  }

  private int64Slow(): number {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return Number(BigInt.asIntN(64, v));
    }
    return this.fail('varint overflow');
  }

  /** The end offset of a length-delimited field whose length comes next. */
  delimitedEnd(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) this.fail('length-delimited field past the end of the message');
    return end;
  }

  /** Skips a length-delimited field, returning where its bytes start (they end at `pos`). */
  bytesStart(): number {
    const end = this.delimitedEnd();
    const start = this.pos;
    this.pos = end;
    return start;
  }

  string(): string {
    const end = this.delimitedEnd();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        while (this.buf[this.pos++]! >= 0x80 && this.pos < this.end);
        break;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimitedEnd();
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) this.fail('field past the end of the message');
  }

  /** Throws if reading ran past `end` (a truncated message). */
  checkWithin(end: number): void {
    if (this.pos > end) this.fail('truncated message');
  }
}
