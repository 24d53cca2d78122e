import * as snappyjs from 'snappyjs';
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
 * memory is allocated, so a small hostile body cannot make us allocate gigabytes.
 */
export function snappyUncompress(input: Uint8Array, maxLength = Number.MAX_SAFE_INTEGER): Buffer {
  const out = snappyjs.uncompress(input, maxLength);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
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
