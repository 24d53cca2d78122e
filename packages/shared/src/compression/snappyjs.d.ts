// snappyjs ships no type declarations; these cover what we use.
declare module 'snappyjs' {
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}

declare module 'snappyjs/snappy_compressor.js' {
  export class SnappyCompressor {
    constructor(input: Uint8Array);
    maxCompressedLength(): number;
    /** Writes the compressed form into `out` (at least maxCompressedLength bytes); returns its length. */
    compressToBuffer(out: Uint8Array): number;
  }
}
