import * as snappyjs from 'snappyjs';

/** Raw (block) snappy, the framing Loki uses for push bodies and chunk blocks. */
export function snappyCompress(input: Uint8Array): Buffer {
  const out = snappyjs.compress(input);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
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
