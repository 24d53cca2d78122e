import { BYTE_SEARCH_WASM } from './byte-search-wasm.js';
import { wasmApi, type WasmMemory } from '../wasm/api.js';

/*
 * Finding a literal in a block of log lines. Where the block lives in a wasm memory registered here (the
 * snappy decoder writes every decompressed block into one), the SIMD search of byte-search.wat runs over
 * it in place; anywhere else (an uncompressed head block, a test's Buffer) Buffer.indexOf does.
 */

interface ByteSearchExports {
  findPair(from: number, last: number, b1: number, d1: number, b2: number, d2: number): number;
}

/** Compiled once per thread, like the snappy decoder. */
const byteSearchModule = new wasmApi.Module(Buffer.from(BYTE_SEARCH_WASM, 'base64'));
/** The search instance of each registered memory. */
const instances = new WeakMap<WasmMemory, ByteSearchExports>();
/** The same, by the memory's current ArrayBuffer: that is what a Buffer view of it names (a grow replaces it). */
const byBuffer = new WeakMap<ArrayBufferLike, ByteSearchExports>();

/** Lets ByteNeedle search Buffers over `memory` in place; called again after the memory grows. */
export function searchable(memory: WasmMemory): void {
  let search = instances.get(memory);
  if (search === undefined) {
    search = new wasmApi.Instance(byteSearchModule, { env: { memory } }).exports as ByteSearchExports;
    instances.set(memory, search);
  }
  byBuffer.set(memory.buffer, search);
}

/** Whether ByteNeedle searches `buf` in place with SIMD (it is a view of a registered memory). */
export function searchedInPlace(buf: Uint8Array): boolean {
  return byBuffer.has(buf.buffer);
}

/** Bytes of the first block searched that are counted to find the needle's rarest bytes. */
const SAMPLE_BYTES = 8192;

/**
 * A literal of two or more bytes, searched for in blocks one occurrence at a time. The SIMD search tests
 * two of its bytes at every position; they are the two rarest in the first block searched (counted over
 * its first 8 KB), so that few positions pass both and the rest of the needle is seldom compared: in log
 * lines a needle's first byte is often a common one (the `T` of `Traceback` is in every ISO timestamp).
 * A single byte needs none of this: Buffer.indexOf of a byte is memchr.
 */
export class ByteNeedle {
  private d1 = 0;
  private d2 = 1;
  private b1: number;
  private b2: number;
  private tuned = false;

  constructor(readonly bytes: Buffer) {
    if (bytes.length < 2) throw new Error('ByteNeedle: a needle of two or more bytes');
    this.b1 = bytes[0]!;
    this.b2 = bytes[1]!;
  }

  /** The offset of the first occurrence in buf at or after `from`, or -1. */
  indexIn(buf: Buffer, from: number): number {
    const search = byBuffer.get(buf.buffer);
    if (search === undefined) return buf.indexOf(this.bytes, from);
    if (!this.tuned) this.tune(buf);
    const base = buf.byteOffset;
    const last = buf.length - this.bytes.length;
    for (let p = from; p <= last; ) {
      const hit = search.findPair(base + p, base + last, this.b1, this.d1, this.b2, this.d2);
      if (hit < 0) return -1;
      const at = hit - base;
      if (this.isAt(buf, at)) return at;
      p = at + 1;
    }
    return -1;
  }

  private isAt(buf: Buffer, at: number): boolean {
    const bytes = this.bytes;
    for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
    return true;
  }

  /** Picks the two needle positions whose bytes are the rarest in the start of `sample`. */
  private tune(sample: Buffer): void {
    const counts = new Uint32Array(256);
    const end = Math.min(sample.length, SAMPLE_BYTES);
    for (let i = 0; i < end; i++) counts[sample[i]!]!++;
    const bytes = this.bytes;
    let first = 0;
    for (let i = 1; i < bytes.length; i++) if (counts[bytes[i]!]! < counts[bytes[first]!]!) first = i;
    let second = first === 0 ? 1 : 0;
    for (let i = 0; i < bytes.length; i++) if (i !== first && counts[bytes[i]!]! < counts[bytes[second]!]!) second = i;
    this.d1 = first;
    this.b1 = bytes[first]!;
    this.d2 = second;
    this.b2 = bytes[second]!;
    this.tuned = true;
  }
}
