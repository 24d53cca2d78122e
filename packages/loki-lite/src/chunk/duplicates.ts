import { type EntryColumns, SnappyScratchDecoder, writeInt64Parts } from '@loki-lite/shared';
import { int32At } from '../util/binary.js';
import { type ChunkEncoding, type CompressedBlock, decompressBlockWith } from './format.js';

/*
 * Looking for an entry among those a chunk holds, so the ingester can drop a duplicate (same timestamp and
 * line; structured metadata is not compared) as Loki's head block does. Only entries at or before a
 * stream's newest timestamp are looked for, so none of this is on the in-order ingest path; a lookup still
 * makes no object. Timestamps are compared as the two 32-bit halves of the i64 a block body stores.
 */

const EMPTY: Buffer = Buffer.alloc(0);
const TIMESTAMP = Buffer.alloc(8);

/** An entry to look for: its timestamp's 32-bit halves and its line, bytes [start, end) of `buf`. */
export class EntryProbe {
  hi = 0;
  lo = 0;
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;

  /** Entry k of push columns. */
  set(columns: EntryColumns, k: number): void {
    writeInt64Parts(TIMESTAMP, 0, columns.seconds, columns.nanos, k);
    this.lo = int32At(TIMESTAMP, 0) >>> 0;
    this.hi = int32At(TIMESTAMP, 4);
    this.buf = columns.buf;
    this.start = columns.starts[k]!;
    this.end = columns.ends[k]!;
  }
}

/** Negative when timestamp (hi, lo) is earlier than (otherHi, otherLo), 0 when equal (lo halves unsigned). */
function compareHalves(hi: number, lo: number, otherHi: number, otherLo: number): number {
  return hi - otherHi || lo - otherLo;
}

/** Where a walk over a block body is; module state, so the walk allocates nothing. */
let pos = 0;

function uvarint(body: Buffer): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    const b = body[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 0x80;
  }
  return result;
}

/** Moves `pos` past the structured metadata of the entry it is in. */
function skipMetadata(body: Buffer): void {
  for (let n = uvarint(body) * 2; n > 0; n--) {
    const length = uvarint(body); // read first: `pos += uvarint(body)` would add to the pos before the varint
    pos += length;
  }
}

/**
 * True if block-body bytes [from, to) hold an entry with the probe's timestamp and line. `sorted`: the
 * entries are in timestamp order, so the walk stops at the first later one.
 */
export function bodyHolds(body: Buffer, from: number, to: number, probe: EntryProbe, sorted: boolean): boolean {
  const lineLength = probe.end - probe.start;
  pos = from;
  while (pos < to) {
    const order = compareHalves(int32At(body, pos + 4), int32At(body, pos) >>> 0, probe.hi, probe.lo);
    if (order > 0 && sorted) return false;
    pos += 8;
    const length = uvarint(body);
    if (order === 0 && length === lineLength && body.compare(probe.buf, probe.start, probe.end, pos, pos + length) === 0) return true;
    pos += length;
    skipMetadata(body);
  }
  return false;
}

/** Appends a time range to `bounds` as four numbers: earliest hi, earliest lo, latest hi, latest lo. */
export function pushBounds(bounds: number[], minTs: bigint, maxTs: bigint): void {
  bounds.push(Number(BigInt.asIntN(32, minTs >> 32n)), Number(BigInt.asUintN(32, minTs)), Number(BigInt.asIntN(32, maxTs >> 32n)), Number(BigInt.asUintN(32, maxTs)));
}

/** True if the probe's timestamp is within range i of `bounds` (see pushBounds). */
export function withinBounds(bounds: readonly number[], i: number, probe: EntryProbe): boolean {
  const b = i * 4;
  return compareHalves(probe.hi, probe.lo, bounds[b]!, bounds[b + 1]!) >= 0 && compareHalves(probe.hi, probe.lo, bounds[b + 2]!, bounds[b + 3]!) <= 0;
}

const blockScratch = new SnappyScratchDecoder();
/**
 * The block a lookup decompressed last, and its bytes: the late entries of a push mostly fall into the
 * same block. (This keeps that one block's bytes alive after its chunk has left memory.)
 */
let lastBlock: CompressedBlock | undefined;
let lastBody: Buffer = EMPTY;

/** True if a compressed block (its entries sorted, as every cut block's are) holds the probe's entry. */
export function blockHolds(encoding: ChunkEncoding, block: CompressedBlock, probe: EntryProbe): boolean {
  if (block !== lastBlock) {
    lastBlock = undefined; // until the scratch holds this block whole
    lastBody = decompressBlockWith(blockScratch, encoding, block.data, block.uncompressedLength);
    lastBlock = block;
  }
  return bodyHolds(lastBody, 0, lastBody.length, probe, true);
}

/** Bytes of head entries summarised as one run (see HeadRuns): a lookup reads about this much per run. */
const RUN_BYTES = 4096;
/** Numbers kept per run: its first entry's offset, then earliest hi, lo and latest hi, lo (lo as int32 bits). */
const RUN_FIELDS = 5;

/**
 * A head block's entries summarised in runs of about RUN_BYTES: where each run starts and the earliest
 * and latest timestamp in it. Made by the head's first lookup and brought up to date by each later one
 * (appending never touches it), so a lookup reads only the runs whose time range holds its timestamp. A
 * head is unsorted once entries arrive out of order, but late entries are mostly a little late, so runs
 * stay narrow in time.
 */
export class HeadRuns {
  private runs = new Int32Array(16 * RUN_FIELDS);
  private count = 0;
  /** Head bytes summarised so far. */
  private summarised = 0;

  /** The head was cut: it starts again empty. */
  reset(): void {
    this.count = 0;
    this.summarised = 0;
  }

  /** True if head bytes [0, length) of `body` hold the probe's entry. */
  holds(body: Buffer, length: number, probe: EntryProbe): boolean {
    this.summarise(body, length);
    const runs = this.runs;
    for (let r = 0; r < this.count; r++) {
      const f = r * RUN_FIELDS;
      if (compareHalves(probe.hi, probe.lo, runs[f + 1]!, runs[f + 2]! >>> 0) < 0 || compareHalves(probe.hi, probe.lo, runs[f + 3]!, runs[f + 4]! >>> 0) > 0) continue;
      const end = r + 1 < this.count ? runs[f + RUN_FIELDS]! : length;
      if (bodyHolds(body, runs[f]!, end, probe, false)) return true;
    }
    return false;
  }

  /** Adds the entries appended since the last lookup to the runs. */
  private summarise(body: Buffer, length: number): void {
    pos = this.summarised;
    while (pos < length) {
      const hi = int32At(body, pos + 4);
      const lo = int32At(body, pos);
      const last = (this.count - 1) * RUN_FIELDS;
      if (this.count === 0 || pos - this.runs[last]! >= RUN_BYTES) this.startRun(pos, hi, lo);
      else this.widen(last, hi, lo);
      pos += 8;
      const lineLength = uvarint(body);
      pos += lineLength;
      skipMetadata(body);
    }
    this.summarised = length;
  }

  private startRun(at: number, hi: number, lo: number): void {
    if ((this.count + 1) * RUN_FIELDS > this.runs.length) {
      const grown = new Int32Array(this.runs.length * 2);
      grown.set(this.runs);
      this.runs = grown;
    }
    const f = this.count++ * RUN_FIELDS;
    const runs = this.runs;
    runs[f] = at;
    runs[f + 1] = runs[f + 3] = hi;
    runs[f + 2] = runs[f + 4] = lo;
  }

  /** Widens run `f` (its first field's index) to hold timestamp (hi, lo). */
  private widen(f: number, hi: number, lo: number): void {
    const runs = this.runs;
    const ulo = lo >>> 0;
    if (compareHalves(hi, ulo, runs[f + 1]!, runs[f + 2]! >>> 0) < 0) {
      runs[f + 1] = hi;
      runs[f + 2] = lo;
    }
    if (compareHalves(hi, ulo, runs[f + 3]!, runs[f + 4]! >>> 0) > 0) {
      runs[f + 3] = hi;
      runs[f + 4] = lo;
    }
  }
}
