import { type EntryColumns, SnappyScratchDecoder, writeInt64Parts } from '@loki-lite/shared';
import { ByteReader, compareHalves, int32At } from '../util/binary.js';
import { skipEntry } from './block.js';
import { type ChunkEncoding, type CompressedBlock, decompressBlockWith } from './format.js';

/*
 * Looking for an entry among those a chunk holds, so the ingester can drop a duplicate (same timestamp and
 * line; structured metadata is not compared) as Loki's head block does. Only entries at or before a
 * stream's newest timestamp are looked for, so none of this is on the in-order ingest path, and appending
 * never touches it: a block body is summarised when a lookup first needs it. A lookup makes no object.
 * Timestamps are compared as the two 32-bit halves of the i64 a block body stores.
 */

const EMPTY: Buffer = Buffer.alloc(0);
const TIMESTAMP = Buffer.alloc(8);

/**
 * An entry to look for: its timestamp's 32-bit halves, its line (bytes [start, end) of `buf`), and the two
 * hashes of both that summaries' filters are probed with.
 */
export class EntryProbe {
  hi = 0;
  lo = 0;
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;
  hash1 = 0;
  hash2 = 0;

  /** Entry k of push columns. */
  set(columns: EntryColumns, k: number): void {
    writeInt64Parts(TIMESTAMP, 0, columns.seconds, columns.nanos, k);
    this.lo = int32At(TIMESTAMP, 0) >>> 0;
    this.hi = int32At(TIMESTAMP, 4);
    this.buf = columns.buf;
    this.start = columns.starts[k]!;
    this.end = columns.ends[k]!;
    hashEntry(this.hi, this.lo, this.buf, this.start, this.end);
    this.hash1 = hash1;
    this.hash2 = hash2;
  }
}

/** The two hashes hashEntry worked out last (module state: no object per entry). */
let hash1 = 0;
let hash2 = 0;

/** Hashes a timestamp and line (FNV-1a over the line's bytes, mixed with the timestamp's halves). */
function hashEntry(hi: number, lo: number, buf: Buffer, start: number, end: number): void {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) ^ 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  hash1 = h ^ (h >>> 16);
  hash2 = (Math.imul(hash1, 0x27d4eb2f) ^ (hash1 >>> 15)) | 1;
}

/** True if block-body bytes [from, to) hold an entry with the probe's timestamp and line. */
function bodyHolds(body: Buffer, from: number, to: number, probe: EntryProbe): boolean {
  const lineLength = probe.end - probe.start;
  const r = new ByteReader(body, from, to);
  while (r.pos < to) {
    const at = r.pos;
    if (int32At(body, at + 4) === probe.hi && int32At(body, at) >>> 0 === probe.lo) {
      r.pos = at + 8;
      const length = r.uvarint();
      if (length === lineLength && body.compare(probe.buf, probe.start, probe.end, r.pos, r.pos + length) === 0) return true;
      r.pos = at;
    }
    skipEntry(r);
  }
  return false;
}

/** Bytes of entries summarised as one run: a lookup that gets past the filter reads about this much per run. */
const RUN_BYTES = 4096;
/** Numbers kept per run: its first entry's offset, then earliest hi, lo and latest hi, lo (lo as int32 bits). */
const RUN_FIELDS = 5;
/** Filter bits per entry (at least; sizes are powers of two) and probes: under 0.3% false positives. */
const FILTER_BITS_PER_ENTRY = 16;
const FILTER_PROBES = 4;
const FILTER_MIN_WORDS = 8;

/**
 * A block body's entries summarised for lookups: a Bloom filter of their timestamps and lines, which rules
 * out nearly every entry the body does not hold, and runs of about RUN_BYTES with the earliest and latest
 * timestamp of each, so a lookup past the filter reads only the runs whose range holds its timestamp. A
 * cut block's entries are sorted, so its runs do not overlap; a head's are unsorted once late entries
 * arrive, and its runs can overlap widely (two clients interleaving their timestamps), which is where the
 * filter pays. A head's summary is brought up to date by each lookup, from where the last one stopped.
 * Costs: 2 bytes an entry for the filter, 20 bytes a run.
 */
export class EntrySummary {
  private runs = new Int32Array(16 * RUN_FIELDS);
  private count = 0;
  private filter: Uint32Array;
  private entries = 0;
  /** Body bytes summarised so far. */
  private summarised = 0;

  /** `expectedEntries`: how many entries the filter is sized for at first (it grows past that). */
  constructor(expectedEntries: number) {
    let words = FILTER_MIN_WORDS;
    while (words * 32 < expectedEntries * FILTER_BITS_PER_ENTRY) words *= 2;
    this.filter = new Uint32Array(words);
  }

  /** The body was replaced (a head was cut): it starts again empty. */
  reset(): void {
    this.count = 0;
    this.summarised = 0;
    if (this.entries > 0) this.filter.fill(0);
    this.entries = 0;
  }

  /** True if bytes [0, length) of `body`, summarised up to `length`, hold the probe's entry. */
  holds(body: Buffer, length: number, probe: EntryProbe): boolean {
    this.summarise(body, length);
    return this.mayHold(probe) && this.find(body, length, probe);
  }

  /** Adds the entries in `body` from where the last call stopped up to `length` to the summary. */
  summarise(body: Buffer, length: number): void {
    const r = new ByteReader(body, this.summarised, length);
    while (r.pos < length) {
      const at = r.pos;
      const hi = int32At(body, at + 4);
      const lo = int32At(body, at);
      const last = (this.count - 1) * RUN_FIELDS;
      if (this.count === 0 || at - this.runs[last]! >= RUN_BYTES) this.startRun(at, hi, lo);
      else this.widen(last, hi, lo);
      if ((this.entries + 1) * FILTER_BITS_PER_ENTRY > this.filter.length * 32) this.growFilter(body, at);
      this.addEntry(r, hi, lo >>> 0);
    }
    this.summarised = length;
  }

  /** False if the summary rules out the probe's entry. */
  mayHold(probe: EntryProbe): boolean {
    const mask = this.filter.length * 32 - 1;
    for (let k = 0, h = probe.hash1; k < FILTER_PROBES; k++, h = (h + probe.hash2) | 0) {
      const bit = h & mask;
      if ((this.filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** True if bytes [0, length) of `body`, the body summarised, hold the probe's entry: reads the runs whose range holds it. */
  find(body: Buffer, length: number, probe: EntryProbe): boolean {
    const runs = this.runs;
    for (let r = 0; r < this.count; r++) {
      const f = r * RUN_FIELDS;
      if (compareHalves(probe.hi, probe.lo, runs[f + 1]!, runs[f + 2]! >>> 0) < 0 || compareHalves(probe.hi, probe.lo, runs[f + 3]!, runs[f + 4]! >>> 0) > 0)
        continue;
      const end = r + 1 < this.count ? runs[f + RUN_FIELDS]! : length;
      if (bodyHolds(body, runs[f]!, end, probe)) return true;
    }
    return false;
  }

  /** Adds the entry at the reader's position, timestamp (hi, lo), to the filter, and moves the reader past it. */
  private addEntry(r: ByteReader, hi: number, lo: number): void {
    const at = r.pos;
    r.pos += 8;
    const lineLength = r.uvarint();
    hashEntry(hi, lo, r.buf, r.pos, r.pos + lineLength);
    r.pos = at;
    skipEntry(r);
    const mask = this.filter.length * 32 - 1;
    for (let k = 0, h = hash1; k < FILTER_PROBES; k++, h = (h + hash2) | 0) {
      const bit = h & mask;
      this.filter[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.entries++;
  }

  /** Doubles the filter and adds the entries before `upTo` to it again (amortised: once per entry). */
  private growFilter(body: Buffer, upTo: number): void {
    this.filter = new Uint32Array(this.filter.length * 2);
    this.entries = 0;
    const r = new ByteReader(body, 0, upTo);
    while (r.pos < upTo) this.addEntry(r, int32At(body, r.pos + 4), int32At(body, r.pos) >>> 0);
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

const blockScratch = new SnappyScratchDecoder();
/**
 * The block a lookup decompressed last and its bytes: the late entries of a push mostly fall into the same
 * block. (This keeps that one block's bytes alive after its chunk has left memory.)
 */
let lastBlock: CompressedBlock | undefined;
let lastBody: Buffer = EMPTY;

/** The block's bytes, decompressed (or kept from the last call): valid until the next call. */
function bodyOf(encoding: ChunkEncoding, block: CompressedBlock): Buffer {
  if (block !== lastBlock) {
    lastBlock = undefined; // until the scratch holds this block whole
    lastBody = decompressBlockWith(blockScratch, encoding, block.data, block.uncompressedLength);
    lastBlock = block;
  }
  return lastBody;
}

/**
 * What a chunk keeps about its compressed blocks for lookups: each block's time range as 32-bit halves,
 * and, from the block's first lookup on, its summary. A block is decompressed for a lookup only once, to
 * be summarised, and then only when its summary cannot rule the entry out.
 */
export class BlockIndex {
  /** Per block: earliest hi, earliest lo, latest hi, latest lo. */
  private readonly bounds: number[] = [];
  private readonly summaries: Array<EntrySummary | undefined> = [];

  add(block: CompressedBlock): void {
    const { minTs, maxTs } = block;
    this.bounds.push(
      Number(BigInt.asIntN(32, minTs >> 32n)),
      Number(BigInt.asUintN(32, minTs)),
      Number(BigInt.asIntN(32, maxTs >> 32n)),
      Number(BigInt.asUintN(32, maxTs)),
    );
    this.summaries.push(undefined);
  }

  clear(): void {
    this.bounds.length = 0;
    this.summaries.length = 0;
  }

  /** True if one of `blocks` (those added, in order) holds the probe's entry; the newest are asked first. */
  holds(encoding: ChunkEncoding, blocks: readonly CompressedBlock[], probe: EntryProbe): boolean {
    for (let i = blocks.length - 1; i >= 0; i--) {
      if (!this.within(i, probe)) continue;
      const block = blocks[i]!;
      let summary = this.summaries[i];
      if (!summary) {
        this.summaries[i] = summary = new EntrySummary(block.entries);
        const body = bodyOf(encoding, block);
        summary.summarise(body, body.length);
      }
      if (!summary.mayHold(probe)) continue;
      const body = bodyOf(encoding, block);
      if (summary.find(body, body.length, probe)) return true;
    }
    return false;
  }

  private within(i: number, probe: EntryProbe): boolean {
    const b = this.bounds;
    const f = i * 4;
    return compareHalves(probe.hi, probe.lo, b[f]!, b[f + 1]!) >= 0 && compareHalves(probe.hi, probe.lo, b[f + 2]!, b[f + 3]!) <= 0;
  }
}
