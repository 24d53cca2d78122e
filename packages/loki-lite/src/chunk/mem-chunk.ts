import { ByteWriter } from '../util/binary.js';
import { type Label, SnappyScratchDecoder } from '@loki-lite/shared';
import { appendEntry, appendRawEntry, BlockCursor, encodeBlockBody, sortBlockBody } from './block.js';
import type { BytePrefilter } from '../logql/log/prefilter.js';
import type { Entry } from './entry.js';
import { type ChunkEncoding, type CompressedBlock, compressBlock, decodeChunk, decompressBlock, encodeChunk, readBlock } from './format.js';

/** A new chunk's head starts small: most streams are quiet. */
const HEAD_INITIAL_BYTES = 1024;
/** Room past the block size for the entry that crosses it. */
const HEAD_SLACK_BYTES = 16 * 1024;

/** Uncompressed head bytes of every chunk that shares it (one per ingester). */
export class HeadMemory {
  used = 0;
}

/** The uncompressed head block: entries already serialized in block-body form. */
interface Head {
  readonly w: ByteWriter;
  entries: number;
  sorted: boolean;
  minTs: bigint;
  maxTs: bigint;
  lastTs: bigint;
}

const newHead = (w: ByteWriter): Head => ({ w, entries: 0, sorted: true, minTs: 0n, maxTs: 0n, lastTs: 0n });

/**
 * The chunk a stream is writing to: compressed blocks plus a head block of serialized entries, so no entry
 * object outlives the push that carried it. Entries may arrive out of order (within the stream's window);
 * the head is sorted when it is cut into a block, and blocks are re-sorted if they overlap when the chunk
 * is encoded for flushing.
 */
export class MemChunk {
  private readonly blocks: CompressedBlock[] = [];
  private head: Head;
  private blocksBytes = 0;
  private blocksOverlap = false;
  minTs = 0n;
  maxTs = 0n;
  entries = 0;
  /** Bytes of the log lines appended, uncompressed. */
  lineBytes = 0;

  /** `busy`: the stream filled its previous chunk, so its first head gets a block-sized buffer too. */
  constructor(
    readonly encoding: ChunkEncoding,
    private readonly blockSize: number,
    private readonly targetSize: number,
    busy = false,
    private readonly memory: HeadMemory = new HeadMemory(),
  ) {
    this.head = newHead(new ByteWriter(busy ? blockSize + HEAD_SLACK_BYTES : HEAD_INITIAL_BYTES));
  }

  /** True once the chunk has reached its target size (compressed blocks plus the uncompressed head). */
  isFull(): boolean {
    return this.size >= this.targetSize;
  }

  get size(): number {
    return this.blocksBytes + this.head.w.length;
  }

  /** Uncompressed bytes in the head block. */
  get headBytes(): number {
    return this.head.w.length;
  }

  append(e: Entry): void {
    this.noteAppend(e.timestamp);
    this.lineBytes += Buffer.byteLength(e.line);
    const before = this.head.w.length;
    appendEntry(this.head.w, e);
    this.memory.used += this.head.w.length - before;
    if (this.head.w.length >= this.blockSize) this.cutFullBlock();
  }

  /** Appends an entry whose line is src[start, end) (the ingest path: bytes are copied, no string made). */
  appendRaw(ts: bigint, src: Buffer, start: number, end: number, metadata: readonly Label[]): void {
    this.noteAppend(ts);
    this.lineBytes += end - start;
    const before = this.head.w.length;
    appendRawEntry(this.head.w, ts, src, start, end, metadata);
    this.memory.used += this.head.w.length - before;
    if (this.head.w.length >= this.blockSize) this.cutFullBlock();
  }

  private noteAppend(ts: bigint): void {
    if (this.entries === 0 || ts < this.minTs) this.minTs = ts;
    if (this.entries === 0 || ts > this.maxTs) this.maxTs = ts;
    this.entries++;
    const h = this.head;
    if (h.entries === 0) h.minTs = h.maxTs = ts;
    else {
      if (ts < h.lastTs) h.sorted = false;
      if (ts < h.minTs) h.minTs = ts;
      if (ts > h.maxTs) h.maxTs = ts;
    }
    h.lastTs = ts;
    h.entries++;
  }

  /** Compresses the head block into a new block, and starts a small head. */
  cutBlock(): void {
    this.compressHead(HEAD_INITIAL_BYTES);
  }

  /**
   * The head reached the block size: this stream is busy and will fill the next head too, so it gets a
   * block-sized buffer at once instead of growing one by doubling (which copies as much as it stores).
   */
  private cutFullBlock(): void {
    this.compressHead(this.blockSize + HEAD_SLACK_BYTES);
  }

  private compressHead(nextCapacity: number): void {
    const h = this.head;
    if (h.entries === 0) return;
    const raw = h.sorted ? h.w.view() : sortBlockBody(h.w.view());
    this.memory.used -= h.w.length;
    this.pushBlock({ minTs: h.minTs, maxTs: h.maxTs, entries: h.entries, data: compressBlock(this.encoding, raw), uncompressedLength: raw.length });
    // The block holds a compressed copy, so a busy stream's next head reuses the buffer: allocating a
    // fresh block-sized one per block was most of the ingester's external-memory churn, and that churn is
    // what sets off V8's full collections.
    // A head cut early (idle, or over head_memory_limit) gives its memory back instead.
    if (nextCapacity > HEAD_INITIAL_BYTES && h.w.capacity >= nextCapacity) {
      h.w.reset();
      this.head = newHead(h.w);
    } else {
      this.head = newHead(new ByteWriter(nextCapacity));
    }
  }

  private pushBlock(block: CompressedBlock): void {
    const prev = this.blocks[this.blocks.length - 1];
    if (prev && block.minTs < prev.maxTs) this.blocksOverlap = true;
    this.blocks.push(block);
    this.blocksBytes += block.data.length;
  }

  /** The entries with from <= timestamp < through, in timestamp order. */
  entriesInRange(from: bigint, through: bigint): Entry[] {
    const out: Entry[] = [];
    if (this.entries === 0 || this.maxTs < from || this.minTs >= through) return out;
    for (const b of this.blocks) {
      if (b.maxTs < from || b.minTs >= through) continue;
      collect(new BlockCursor(decompressBlock(this.encoding, b.data, b.uncompressedLength)), from, through, out);
    }
    const h = this.head;
    if (h.entries > 0 && h.maxTs >= from && h.minTs < through) collect(new BlockCursor(h.w.view()), from, through, out);
    sortByTimestamp(out);
    return out;
  }

  /** A point-in-time copy of the contents (blocks are immutable; the head's bytes are copied). */
  snapshot(): ChunkSnapshot {
    return { encoding: this.encoding, blocks: this.blocks.slice(), head: Buffer.from(this.head.w.view()) };
  }

  /** Cuts the head and writes the chunk's bytes; blocks that overlap in time are re-sorted first. */
  encode(): Buffer {
    this.cutBlock();
    if (this.blocksOverlap) this.resortBlocks();
    return encodeChunk(this.encoding, this.blocks);
  }

  private resortBlocks(): void {
    const all = this.entriesInRange(this.minTs, this.maxTs + 1n);
    this.blocks.length = 0;
    this.blocksBytes = 0;
    this.blocksOverlap = false;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < all.length; i++) {
      bytes += all[i]!.line.length + 16;
      if (bytes >= this.blockSize || i === all.length - 1) {
        const part = all.slice(start, i + 1);
        const raw = encodeBlockBody(part);
        this.pushBlock({ minTs: part[0]!.timestamp, maxTs: part[part.length - 1]!.timestamp, entries: part.length, data: compressBlock(this.encoding, raw), uncompressedLength: raw.length });
        start = i + 1;
        bytes = 0;
      }
    }
  }
}

function collect(cursor: BlockCursor, from: bigint, through: bigint, out: Entry[]): void {
  while (cursor.next()) {
    const ts = cursor.timestamp;
    if (ts >= from && ts < through) out.push(cursor.entry());
  }
}

function sortByTimestamp(entries: Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.timestamp < entries[i - 1]!.timestamp) {
      // Array.prototype.sort is stable: equal timestamps keep their arrival order.
      entries.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
      return;
    }
  }
}

/** A point-in-time copy of a chunk's contents, for WAL checkpoints. */
export interface ChunkSnapshot {
  readonly encoding: ChunkEncoding;
  readonly blocks: readonly CompressedBlock[];
  /** The head block's body. */
  readonly head: Buffer;
}

/** Every entry of a snapshot (blocks first, then the head; not merged into one order). */
export function* snapshotEntries(s: ChunkSnapshot): Generator<Entry> {
  for (const b of s.blocks) {
    const cursor = new BlockCursor(decompressBlock(s.encoding, b.data, b.uncompressedLength));
    while (cursor.next()) yield cursor.entry();
  }
  const cursor = new BlockCursor(s.head);
  while (cursor.next()) yield cursor.entry();
}

/**
 * Stored blocks are decoded into this one buffer: a read turns a block's lines into entries (strings) in
 * one synchronous step, so nothing refers to the buffer afterwards, and a fresh 256 KB buffer per block
 * only feeds the garbage collector.
 */
const storedBlockScratch = new SnappyScratchDecoder();

/**
 * The entries of an encoded chunk with from <= timestamp < through, one block at a time (decompressed
 * when asked for), blocks in time order or reversed. A stored chunk's blocks are sorted and do not
 * overlap (encode re-sorts them).
 */
export function readChunkBlocks(
  bytes: Buffer, from: bigint, through: bigint, backward: boolean,
  /** Lines failing this are left out without becoming entries; they are counted in `skipped`. */
  prefilter?: BytePrefilter,
  skipped?: { lines: number; bytes: number },
): { next(): Entry[] | undefined } {
  const chunk = decodeChunk(bytes);
  const blocks = chunk.blocks.filter((b) => b.maxTs >= from && b.minTs < through);
  if (backward) blocks.reverse();
  let i = 0;
  return {
    next() {
      const b = blocks[i++];
      if (!b) return undefined;
      const out: Entry[] = [];
      const cursor = new BlockCursor(readBlock(chunk, b, storedBlockScratch));
      // A block inside the range needs no timestamp test, so no BigInt is made for a line left out.
      const inside = b.minTs >= from && b.maxTs < through;
      prefilter?.reset();
      while (cursor.next()) {
        if (!inside) {
          const ts = cursor.timestamp;
          if (ts < from || ts >= through) continue;
        }
        if (prefilter && !prefilter.keeps(cursor.buf, cursor.lineStart, cursor.lineEnd, cursor.hasMetadata)) {
          if (skipped) {
            skipped.lines++;
            skipped.bytes += cursor.lineEnd - cursor.lineStart;
          }
          continue;
        }
        out.push(cursor.entry());
      }
      return out;
    },
  };
}

/** Reads every entry of an encoded chunk with from <= timestamp < through, in timestamp order. */
export function readChunkEntries(bytes: Buffer, from: bigint, through: bigint): Entry[] {
  const chunk = decodeChunk(bytes);
  const out: Entry[] = [];
  for (const b of chunk.blocks) {
    if (b.maxTs < from || b.minTs >= through) continue;
    collect(new BlockCursor(readBlock(chunk, b, storedBlockScratch)), from, through, out);
  }
  return out;
}
