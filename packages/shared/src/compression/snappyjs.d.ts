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

declare module 'snappyjs/snappy_decompressor.js' {
  export class SnappyDecompressor {
    constructor(input: Uint8Array);
    /** Reads the preamble (call first); -1 if malformed. */
    readUncompressedLength(): number;
    /** Decodes the tags after the preamble into `out`; false for a malformed stream. */
    uncompressToBuffer(out: Uint8Array): boolean;
  }
}
