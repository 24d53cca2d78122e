import * as snappyjs from 'snappyjs';
import { SnappyCompressor } from 'snappyjs/snappy_compressor.js';
import { SnappyDecompressor } from 'snappyjs/snappy_decompressor.js';

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
 * memory is allocated, so a small hostile body cannot make us allocate gigabytes.
 */
export function snappyUncompress(input: Uint8Array, maxLength = Number.MAX_SAFE_INTEGER): Buffer {
  const out = snappyjs.uncompress(input, maxLength);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Decompresses raw snappy into one buffer it reuses, for the push path: a push body is decoded, copied
 * into stream heads and dropped within one synchronous step, so a fresh (zero-filled, GC-tracked) buffer
 * of 100+ KB per request is pure cost. The returned view is valid only until the next `decode`.
 */
export class SnappyScratchDecoder {
  private scratch = Buffer.allocUnsafe(0);

  /** Returns the uncompressed bytes, or undefined for corrupt input. Throws nothing. */
  decode(input: Uint8Array, maxLength: number): Buffer | undefined {
    const length = snappyUncompressedLength(input);
    if (length < 0 || length > maxLength) return undefined;
    // snappyjs checks neither that the output fits nor that it is complete; with a reused buffer either
    // would expose an earlier request's bytes, so the tags are checked first.
    if (snappyDecodedLength(input) !== length) return undefined;
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(Math.max(length, this.scratch.length * 2));
    const out = this.scratch.subarray(0, length);
    const decompressor = new SnappyDecompressor(input);
    decompressor.readUncompressedLength();
    return decompressor.uncompressToBuffer(out) ? out : undefined;
  }
}

/**
 * Walks the tags of a raw snappy stream without copying anything and returns how many bytes it decodes
 * to, or -1 if a tag is truncated or copies from before the start of the output.
 */
export function snappyDecodedLength(input: Uint8Array): number {
  let pos = 0;
  while (pos < input.length && (input[pos]! & 0x80) !== 0) pos++; // the preamble
  pos++;
  let out = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = (tag >>> 2) + 1;
        if (len > 60) {
          const extra = len - 60;
          if (pos + extra > input.length) return -1;
          len = 0;
          for (let i = extra - 1; i >= 0; i--) len = len * 256 + input[pos + i]!;
          len += 1;
          pos += extra;
        }
        if (pos + len > input.length) return -1;
        pos += len;
        out += len;
        continue;
      }
      case 1:
        if (pos + 1 > input.length) return -1;
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | input[pos]!;
        pos += 1;
        break;
      case 2:
        if (pos + 2 > input.length) return -1;
        len = (tag >>> 2) + 1;
        offset = input[pos]! | (input[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > input.length) return -1;
        len = (tag >>> 2) + 1;
        offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 0x1000000;
        pos += 4;
    }
    if (offset === 0 || offset > out) return -1;
    out += len;
  }
  return out;
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
