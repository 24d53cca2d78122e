/*
 * Raw (block) snappy, the framing Loki uses for push bodies and chunk blocks, hand-tuned in both directions
 * because compression is the largest single cost of ingest after HTTP, and decompression the largest of a
 * log scan; bench/src/snappy.ts measures both against snappyjs, which stays as the test oracle.
 *
 * The compressor is the classic snappy scheme: the input is cut into 64 KB fragments; in each, a hash of the
 * 4 bytes at every position (skipping faster through data that does not compress) finds an earlier position
 * with the same 4 bytes, the match is extended, and literals and back-references are emitted. 4-byte loads
 * and compares go through a DataView and the hash through Math.imul, which is where snappyjs loses its time.
 */

import { SNAPPY_DECODE_WASM } from './snappy-decode-wasm.js';

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
 * The decoder: literals of NATIVE_COPY_MIN bytes or more are copied natively, shorter ones 4 bytes a step;
 * back-references at a distance of 4 or more move 4 bytes per step through a DataView (each 4-byte read is
 * of bytes already written, so overlapping copies are still right); shorter distances (runs) go byte by
 * byte. A 4-byte step may write up to 3 bytes past the piece's end when the output has room: the pieces
 * after it write over them, and a stream that does not fill its stated length is rejected, so those bytes
 * are never seen. snappyjs copies every byte in a loop and allocates a zero-filled output.
 */

/**
 * Decodes the tags of raw snappy `input` from `pos` (after the preamble) into `out`, which must be exactly
 * the uncompressed length long. Returns the number of bytes written, or -1 when a tag is truncated, copies
 * from before the start of the output, or would write past the end of `out`.
 */
function snappyUncompressInto(input: Uint8Array, pos: number, out: Buffer): number {
  const end = input.length;
  const cap = out.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const inView = new DataView(input.buffer, input.byteOffset, input.byteLength);
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
      if (len >= NATIVE_COPY_MIN) out.set(input.subarray(pos, pos + len), o);
      else if (pos + len + 3 <= end && o + len + 3 <= cap) {
        // 4 bytes a step, past the end by up to 3 (both buffers have room): the next tag writes over them.
        for (let i = 0; i < len; i += 4) view.setUint32(o + i, inView.getUint32(pos + i, true), true);
      } else for (let i = 0; i < len; i++) out[o + i] = input[pos + i]!;
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
    if (offset >= 4 && o + len + 3 <= cap) {
      // As for literals: 4 bytes a step, the last step past the end by up to 3.
      for (let i = 0; i < len; i += 4) view.setUint32(o + i, view.getUint32(from + i, true), true);
    } else {
      let i = 0;
      if (offset >= 4) for (; i + 4 <= len; i += 4) view.setUint32(o + i, view.getUint32(from + i, true), true);
      for (; i < len; i++) out[o + i] = out[from + i]!;
    }
    o += len;
  }
  return o;
}

/**
 * Bytes the wasm decoder may read past its input and write past its output (snappy-decode.wat): its 8-byte
 * steps overshoot by up to 15.
 */
const WASM_SLACK = 16;
const WASM_PAGE = 65536;

/** The part of the WebAssembly API used here: Node has it, but neither the ES lib nor @types/node 20 declares it. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface SnappyDecodeExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  decode(pos: number, end: number, out: number, cap: number): number;
}

/** Compiled once per thread (each worker thread loads this package, and its own copy of the module). */
const snappyDecodeModule = new wasmApi.Module(Buffer.from(SNAPPY_DECODE_WASM, 'base64'));

/**
 * The WebAssembly decoder (snappy-decode.wat) with a memory of its own: the input is copied in, the output
 * decoded next to it, and `decode` returns a view of the output, valid only until the next `decode` of
 * this same object (another one has its own memory).
 */
export class WasmSnappyDecoder {
  private readonly exports = new wasmApi.Instance(snappyDecodeModule).exports as unknown as SnappyDecodeExports;
  /** All of the memory; remade after a grow, which detaches the old ArrayBuffer. */
  private bytes = Buffer.from(this.exports.memory.buffer);

  /** Returns the uncompressed bytes, or undefined for corrupt input or a length over `maxLength`. */
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
    return this.exports.decode(preambleSize(input), input.length, out, cap) === length ? this.bytes.subarray(out, cap) : undefined;
  }

  private grow(size: number): void {
    const pages = Math.ceil(Math.max(size, this.bytes.length * 2) / WASM_PAGE);
    this.exports.memory.grow(pages - this.bytes.length / WASM_PAGE);
    this.bytes = Buffer.from(this.exports.memory.buffer);
  }
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
