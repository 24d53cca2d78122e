import { SnappyCompressor } from 'snappyjs/snappy_compressor.js';

/**
 * snappyjs' compress() returns a view into a zero-filled buffer of the worst-case size, so each kept
 * result pins about 1.2x its input. We compress into one reused scratch buffer instead and copy out
 * exactly the compressed bytes: no zero-filling, nothing pinned (chunk blocks live in memory for hours).
 */
let scratch = Buffer.allocUnsafe(0);

/** Raw (block) snappy, the framing Loki uses for push bodies and chunk blocks. */
export function snappyCompress(input: Uint8Array): Buffer {
  const compressor = new SnappyCompressor(input);
  const max = compressor.maxCompressedLength();
  if (scratch.length < max) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const length = compressor.compressToBuffer(scratch);
  const out = Buffer.allocUnsafeSlow(length);
  scratch.copy(out, 0, 0, length);
  return out;
}

/**
 * Decompresses raw snappy. `maxLength` is checked against the length in the stream's preamble before any
 * memory is allocated, so a small hostile body cannot make us allocate gigabytes. Throws on corrupt input.
 */
export function snappyUncompress(input: Uint8Array, maxLength = Number.MAX_SAFE_INTEGER): Buffer {
  const length = snappyUncompressedLength(input);
  if (length < 0) throw new Error('snappy: corrupt input (bad length preamble)');
  if (length > maxLength) throw new Error(`snappy: uncompressed length ${length} is over the limit of ${maxLength}`);
  const out = Buffer.allocUnsafe(length);
  if (snappyUncompressInto(input, preambleSize(input), out) !== length) throw new Error('snappy: corrupt input');
  return out;
}

/**
 * Decompresses raw snappy into one buffer it reuses, for the push path: a push body is decoded, copied
 * into stream heads and dropped within one synchronous step, so a fresh (GC-tracked) buffer of 100+ KB
 * per request is pure cost. The returned view is valid only until the next `decode`.
 */
export class SnappyScratchDecoder {
  private scratch = Buffer.allocUnsafe(0);

  /** Returns the uncompressed bytes, or undefined for corrupt input. Throws nothing. */
  decode(input: Uint8Array, maxLength: number): Buffer | undefined {
    const length = snappyUncompressedLength(input);
    if (length < 0 || length > maxLength) return undefined;
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(Math.max(length, this.scratch.length * 2));
    const out = this.scratch.subarray(0, length);
    // Every byte of [0, length) is written in order before the decoder can return `length`, so an earlier
    // request's bytes in the reused buffer are never exposed.
    return snappyUncompressInto(input, preambleSize(input), out) === length ? out : undefined;
  }
}

/*
 * The decoder, tuned because block decompression is the largest single cost of a log scan (snappyjs copies
 * every byte in a loop and allocates a zero-filled output; see bench/src/snappy.ts for the figures).
 * Literals of 32 bytes or more are copied natively; back-references at a distance of 4 or more move 4 bytes
 * per step through a DataView (each 4-byte read is of bytes already written, so overlapping copies are
 * still right); shorter distances (runs) go byte by byte.
 */
const NATIVE_COPY_MIN = 32;

/**
 * Decodes the tags of raw snappy `input` from `pos` (after the preamble) into `out`, which must be exactly
 * the uncompressed length long. Returns the number of bytes written, or -1 when a tag is truncated, copies
 * from before the start of the output, or would write past the end of `out`.
 */
export function snappyUncompressInto(input: Uint8Array, pos: number, out: Buffer): number {
  const end = input.length;
  const cap = out.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let o = 0;
  while (pos < end) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    let len: number;
    if (kind === 0) {
      len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (pos + extra > end) return -1;
        len = input[pos]!;
        if (extra > 1) len |= input[pos + 1]! << 8;
        if (extra > 2) len |= input[pos + 2]! << 16;
        if (extra > 3) len += input[pos + 3]! * 0x1000000;
        len += 1;
        pos += extra;
      }
      if (pos + len > end || o + len > cap) return -1;
      if (len < NATIVE_COPY_MIN) for (let i = 0; i < len; i++) out[o + i] = input[pos + i]!;
      else out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > end) return -1;
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos]!;
      pos += 1;
    } else if (kind === 2) {
      if (pos + 2 > end) return -1;
      len = (tag >>> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > end) return -1;
      len = (tag >>> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 0x1000000;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + len > cap) return -1;
    const from = o - offset;
    let i = 0;
    if (offset >= 4) for (; i + 4 <= len; i += 4) view.setUint32(o + i, view.getUint32(from + i, true), true);
    for (; i < len; i++) out[o + i] = out[from + i]!;
    o += len;
  }
  return o;
}

function preambleSize(input: Uint8Array): number {
  let pos = 0;
  while (pos < input.length && (input[pos]! & 0x80) !== 0) pos++;
  return pos + 1;
}

/** Reads the uncompressed length from a raw snappy preamble (a uvarint), or -1 if it is malformed. */
export function snappyUncompressedLength(input: Uint8Array): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < input.length && shift <= 28; i++) {
    const b = input[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
  }
  return -1;
}
