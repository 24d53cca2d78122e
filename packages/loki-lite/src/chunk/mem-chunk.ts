import { ByteWriter } from '../util/binary.js';
import { BlockCursor, writeBlockBody } from './block.js';
import type { Entry } from './entry.js';
import { type ChunkEncoding, type CompressedBlock, compressBlock, decodeChunk, decompressBlock, encodeChunk, readBlock } from './format.js';

/** Bytes an entry takes in a block body, used to decide when to cut a block or a chunk. */
export function entrySize(e: Entry): number {
  let n = 10 + e.line.length;
  for (const l of e.structuredMetadata) n += 4 + l.name.length + l.value.length;
  return n;
}

const scratch = new ByteWriter(1 << 18);

/**
 * The chunk a stream is writing to: compressed blocks plus an uncompressed head block. Entries may arrive
 * out of order (within the stream's acceptance window); the head is sorted when it is cut into a block, and
 * the chunk's blocks are re-sorted if they overlap when the chunk is encoded for flushing.
 */
export class MemChunk {
  private readonly blocks: CompressedBlock[] = [];
  private head: Entry[] = [];
  private headSorted = true;
  private headBytes = 0;
  private blocksBytes = 0;
  private blocksOverlap = false;
  minTs = 0n;
  maxTs = 0n;
  entries = 0;

  constructor(
    readonly encoding: ChunkEncoding,
    private readonly blockSize: number,
    private readonly targetSize: number,
  ) {}

  /** True when adding an entry of `size` bytes would take the chunk past its target size. */
  isFull(): boolean {
    return this.blocksBytes + this.headBytes >= this.targetSize;
  }

  append(e: Entry): void {
    const ts = e.timestamp;
    if (this.entries === 0) this.minTs = this.maxTs = ts;
    else {
      if (ts < this.minTs) this.minTs = ts;
      if (ts > this.maxTs) this.maxTs = ts;
    }
    const last = this.head[this.head.length - 1];
    if (last && ts < last.timestamp) this.headSorted = false;
    this.head.push(e);
    this.headBytes += entrySize(e);
    this.entries++;
    if (this.headBytes >= this.blockSize) this.cutBlock();
  }

  /** Compresses the head block. */
  cutBlock(): void {
    if (this.head.length === 0) return;
    const head = this.sortedHead();
    const raw = writeBlockBody(scratch, head);
    const block: CompressedBlock = {
      minTs: head[0]!.timestamp,
      maxTs: head[head.length - 1]!.timestamp,
      entries: head.length,
      data: compressBlock(this.encoding, raw),
      uncompressedLength: raw.length,
    };
    const prev = this.blocks[this.blocks.length - 1];
    if (prev && block.minTs < prev.maxTs) this.blocksOverlap = true;
    this.blocks.push(block);
    this.blocksBytes += block.data.length;
    this.head = [];
    this.headBytes = 0;
    this.headSorted = true;
  }

  private sortedHead(): Entry[] {
    // Array.prototype.sort is stable: equal timestamps keep their arrival order.
    if (!this.headSorted) this.head.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    this.headSorted = true;
    return this.head;
  }

  /** Compressed size so far (head counted uncompressed). */
  get size(): number {
    return this.blocksBytes + this.headBytes;
  }

  /** The entries with from <= timestamp < through, in timestamp order. */
  entriesInRange(from: bigint, through: bigint): Entry[] {
    const out: Entry[] = [];
    if (this.entries === 0 || this.maxTs < from || this.minTs >= through) return out;
    for (const b of this.blocks) {
      if (b.maxTs < from || b.minTs >= through) continue;
      const cursor = new BlockCursor(decompressBlock(this.encoding, b.data, b.uncompressedLength), b.entries);
      while (cursor.next()) if (cursor.timestamp >= from && cursor.timestamp < through) out.push(cursor.entry());
    }
    for (const e of this.sortedHead()) if (e.timestamp >= from && e.timestamp < through) out.push(e);
    if (this.blocksOverlap || this.blocks.length > 0) sortByTimestamp(out);
    return out;
  }

  snapshot(): ChunkSnapshot {
    return { encoding: this.encoding, blocks: this.blocks.slice(), head: this.head.slice() };
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
    for (const e of all) {
      this.head.push(e);
      this.headBytes += entrySize(e);
      if (this.headBytes >= this.blockSize) this.cutBlock();
    }
    this.cutBlock();
  }
}

/** A point-in-time copy of a chunk's contents (blocks are immutable; the head array is copied). */
export interface ChunkSnapshot {
  readonly encoding: ChunkEncoding;
  readonly blocks: readonly CompressedBlock[];
  readonly head: readonly Entry[];
}

/** Every entry of a snapshot (blocks first, then the head; not merged into one order). */
export function* snapshotEntries(s: ChunkSnapshot): Generator<Entry> {
  for (const b of s.blocks) {
    const cursor = new BlockCursor(decompressBlock(s.encoding, b.data, b.uncompressedLength), b.entries);
    while (cursor.next()) yield cursor.entry();
  }
  yield* s.head;
}

function sortByTimestamp(entries: Entry[]): void {
  let sorted = true;
  for (let i = 1; i < entries.length && sorted; i++) if (entries[i]!.timestamp < entries[i - 1]!.timestamp) sorted = false;
  if (!sorted) entries.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
}

/** Reads every entry of an encoded chunk with from <= timestamp < through, in timestamp order. */
export function readChunkEntries(bytes: Buffer, from: bigint, through: bigint): Entry[] {
  const chunk = decodeChunk(bytes);
  const out: Entry[] = [];
  for (const b of chunk.blocks) {
    if (b.maxTs < from || b.minTs >= through) continue;
    const cursor = new BlockCursor(readBlock(chunk, b), b.entries);
    while (cursor.next()) if (cursor.timestamp >= from && cursor.timestamp < through) out.push(cursor.entry());
  }
  return out;
}
