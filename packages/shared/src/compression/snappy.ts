/*
 * Raw (block) snappy, the framing Loki uses for push bodies and chunk blocks, hand-tuned in both directions
 * because compression is the largest single cost of ingest after HTTP, and decompression the largest of a
 * log scan; bench/src/snappy.ts measures both against snappyjs, which stays as the test oracle. The decoder
 * is WebAssembly written by hand (snappy-decode.wat: 8-byte steps, bulk copies), 4-5x the JS one it replaced.
 *
 * The compressor is the classic snappy scheme: the input is cut into 64 KB fragments; in each, a hash of the
 * 4 bytes at every position (skipping faster through data that does not compress) finds an earlier position
 * with the same 4 bytes, the match is extended, and literals and back-references are emitted. 4-byte loads
 * and compares go through a DataView and the hash through Math.imul, which is where snappyjs loses its time.
 */

import { SNAPPY_DECODE_WASM } from './snappy-decode-wasm.js';
import { searchable } from '../search/byte-search.js';
import { WASM_PAGE, wasmApi, type WasmMemory } from '../wasm/api.js';

const FRAGMENT = 1 << 16;
const HASH_BITS = 14;
/** Snappy's multiplicative hash of 4 bytes. */
const HASH_MULTIPLIER = 0x1e35a7bd;
const hashTable = new Uint16Array(1 << HASH_BITS);
/** Below this many bytes a loop beats a native copy (which also needs a subarray view). */
const NATIVE_COPY_MIN = 32;
/** The compressor stops looking for matches this close to a fragment's end (loads read 4 bytes ahead). */
const INPUT_MARGIN = 15;

let scratch = Buffer.allocUnsafe(0);

/**
 * Compresses `input` into a buffer of exactly the compressed size (nothing larger is kept alive), taken
 * from `alloc` (a chunk's sealed blocks live in shared memory, so query threads read them in place).
 */
export function snappyCompress(input: Uint8Array, alloc: (length: number) => Buffer = Buffer.allocUnsafeSlow): Buffer {
  const max = 32 + input.length + Math.floor(input.length / 6);
  if (scratch.length < max) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const length = snappyCompressInto(input, scratch);
  const out = alloc(length);
  scratch.copy(out, 0, 0, length);
  return out;
}

/** Writes the compressed form of `input` into `out` (at least 32 + n + n/6 bytes); returns its length. */
function snappyCompressInto(input: Uint8Array, out: Uint8Array): number {
  let op = 0;
  for (let v = input.length; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out[op++] = v;
      break;
    }
    out[op++] = (v & 0x7f) | 0x80;
  }
  const inView = new DataView(input.buffer, input.byteOffset, input.byteLength);
  for (let start = 0; start < input.length; start += FRAGMENT) {
    op = compressFragment(input, inView, start, Math.min(start + FRAGMENT, input.length), out, op);
  }
  return op;
}

function hashBitsFor(size: number): number {
  let bits = 8;
  while (bits < HASH_BITS && 1 << bits < size) bits++;
  return bits;
}

/** The hash-table slot for the 4 bytes at `pos`. */
function hashAt(view: DataView, pos: number, shift: number): number {
  return Math.imul(view.getUint32(pos, true), HASH_MULTIPLIER) >>> shift;
}

function compressFragment(input: Uint8Array, view: DataView, base: number, end: number, out: Uint8Array, op: number): number {
  const bits = hashBitsFor(end - base);
  const shift = 32 - bits;
  hashTable.fill(0, 0, 1 << bits);
  let emitFrom = base;
  if (end - base >= INPUT_MARGIN) {
    const limit = end - INPUT_MARGIN;
    let ip = base + 1;
    let nextHash = hashAt(view, ip, shift);
    for (;;) {
      // Find a 4-byte match: step 1 byte at first, faster the longer nothing matches (skip / 32).
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      for (;;) {
        ip = nextIp;
        const hash = nextHash;
        nextIp = ip + (skip++ >>> 5);
        if (nextIp > limit) return emitLiteral(input, emitFrom, end, out, op);
        nextHash = hashAt(view, nextIp, shift);
        candidate = base + hashTable[hash]!;
        hashTable[hash] = ip - base;
        if (view.getUint32(ip, true) === view.getUint32(candidate, true)) break;
      }
      op = emitLiteral(input, emitFrom, ip, out, op);
      // Emit copies for as long as the position after one starts another match.
      for (;;) {
        const matchStart = ip;
        let matched = 4;
        while (ip + matched + 4 <= end && view.getUint32(ip + matched, true) === view.getUint32(candidate + matched, true)) matched += 4;
        while (ip + matched < end && input[ip + matched] === input[candidate + matched]) matched++;
        ip += matched;
        op = emitCopy(out, op, matchStart - candidate, matched);
        emitFrom = ip;
        if (ip >= limit) return emitLiteral(input, emitFrom, end, out, op);
        hashTable[hashAt(view, ip - 1, shift)] = ip - 1 - base;
        const hash = hashAt(view, ip, shift);
        candidate = base + hashTable[hash]!;
        hashTable[hash] = ip - base;
        if (view.getUint32(ip, true) !== view.getUint32(candidate, true)) break;
      }
      ip++;
      nextHash = hashAt(view, ip, shift);
    }
  }
  return emitLiteral(input, emitFrom, end, out, op);
}

/** Emits input[from, to) as a literal (nothing when empty). */
function emitLiteral(input: Uint8Array, from: number, to: number, out: Uint8Array, op: number): number {
  const len = to - from;
  if (len === 0) return op;
  const n = len - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else {
    // A fragment is at most 64 KB, so two length bytes always suffice.
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  }
  if (len < NATIVE_COPY_MIN) for (let i = 0; i < len; i++) out[op + i] = input[from + i]!;
  else out.set(input.subarray(from, to), op);
  return op + len;
}

/** Emits a back-reference of `len` bytes at distance `offset` (< 64 KB), as 64-byte pieces at most. */
function emitCopy(out: Uint8Array, op: number, offset: number, len: number): number {
  while (len >= 68) {
    op = emitCopyUpTo64(out, op, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    // Leaves at least 4 for the last piece, the shortest a copy can be.
    op = emitCopyUpTo64(out, op, offset, 60);
    len -= 60;
  }
  return emitCopyUpTo64(out, op, offset, len);
}

function emitCopyUpTo64(out: Uint8Array, op: number, offset: number, len: number): number {
  if (len < 12 && offset < 2048) {
    out[op] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    out[op + 1] = offset & 0xff;
    return op + 2;
  }
  out[op] = 2 | ((len - 1) << 2);
  out[op + 1] = offset & 0xff;
  out[op + 2] = offset >>> 8;
  return op + 3;
}

/**
 * Bytes the wasm decoder may read past its input and write past its output (snappy-decode.wat): its 8-byte
 * steps overshoot by up to 15.
 */
const WASM_SLACK = 16;

interface SnappyDecodeExports {
  readonly memory: WasmMemory;
  decode(pos: number, end: number, out: number, cap: number): number;
}

/** Compiled once per thread (each worker thread loads this package, and its own copy of the module). */
const snappyDecodeModule = new wasmApi.Module(Buffer.from(SNAPPY_DECODE_WASM, 'base64'));

/**
 * Decompresses raw snappy into memory it reuses, for block scans and the push path: a block or body is
 * decoded, read and dropped within one synchronous step, so a fresh (GC-tracked) buffer of 100+ KB each
 * time is pure cost. The WebAssembly decoder (snappy-decode.wat) runs in a memory of this object's own:
 * the input is copied in, the output decoded next to it, and `decode` returns a view of the output, valid
 * only until this same object's next `decode` (another one has its own memory).
 */
export class SnappyScratchDecoder {
  private readonly exports = new wasmApi.Instance(snappyDecodeModule).exports as unknown as SnappyDecodeExports;
  /** All of the memory; remade after a grow, which detaches the old ArrayBuffer. */
  private bytes = Buffer.from(this.exports.memory.buffer);

  constructor() {
    // A block is searched for a query's literals right after it is decoded: in place, in this memory.
    searchable(this.exports.memory);
  }

  /** Returns the uncompressed bytes, or undefined for corrupt input or a length over `maxLength`. Throws nothing. */
  decode(input: Uint8Array, maxLength: number): Buffer | undefined {
    const length = snappyUncompressedLength(input);
    return length < 0 || length > maxLength ? undefined : this.decodeWithLength(input, length);
  }

  /** decode, for an input whose preamble was read already and says `length`. */
  decodeWithLength(input: Uint8Array, length: number): Buffer | undefined {
    // Layout: [input][slack, to a multiple of 8][output][slack].
    const out = (input.length + WASM_SLACK + 7) & ~7;
    const cap = out + length;
    if (this.bytes.length < cap + WASM_SLACK) this.grow(cap + WASM_SLACK);
    this.bytes.set(input, 0);
    // The decoder returns `length` only when it wrote every byte of the output in order, so an earlier
    // stream's bytes in the reused memory are never exposed.
    return this.exports.decode(preambleSize(input), input.length, out, cap) === length ? this.bytes.subarray(out, cap) : undefined;
  }

  private grow(size: number): void {
    const pages = Math.ceil(Math.max(size, this.bytes.length * 2) / WASM_PAGE);
    this.exports.memory.grow(pages - this.bytes.length / WASM_PAGE);
    this.bytes = Buffer.from(this.exports.memory.buffer);
    searchable(this.exports.memory);
  }
}

let sharedDecoder: SnappyScratchDecoder | undefined;

/**
 * Decompresses raw snappy into a fresh buffer. `maxLength` is checked against the length in the stream's
 * preamble before any memory is allocated, so a small hostile body cannot make us allocate gigabytes.
 * Throws on corrupt input.
 */
export function snappyUncompress(input: Uint8Array, maxLength = Number.MAX_SAFE_INTEGER): Buffer {
  const length = snappyUncompressedLength(input);
  if (length < 0) throw new Error('snappy: corrupt input (bad length preamble)');
  if (length > maxLength) throw new Error(`snappy: uncompressed length ${length} is over the limit of ${maxLength}`);
  sharedDecoder ??= new SnappyScratchDecoder();
  const decoded = sharedDecoder.decodeWithLength(input, length);
  if (!decoded) throw new Error('snappy: corrupt input');
  const out = Buffer.allocUnsafe(length);
  decoded.copy(out);
  return out;
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
