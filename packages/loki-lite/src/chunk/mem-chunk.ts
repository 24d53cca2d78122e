import { ByteWriter, copyBytes, type LineBytes } from '../util/binary.js';
import type { EntryColumns, Label } from '@loki-lite/shared';
import { appendEntry, appendRawEntry, bodyTimeRange, encodeBlockBody, sortBlockBody } from './block.js';
import { BlockIndex, type EntryProbe, EntrySummary } from './duplicates.js';
import type { Entry } from './entry.js';
import { type ChunkEncoding, type CompressedBlock, compressBlock, encodeChunk } from './format.js';
import { entriesOfRuns, readSnapshotBlocks, snapshotEntries } from './reader.js';
import { type ChunkSnapshot, type SnapshotBlock, sharedBytes } from './snapshot.js';

/*
 * The chunk an ingester stream writes to (MemChunk) and the head memory all of an ingester's chunks share.
 * Queries and checkpoints read it through snapshots (snapshot.ts), decoded by reader.ts.
 */

/** A new chunk's head starts small: most streams are quiet. */
const HEAD_INITIAL_BYTES = 1024;
/** Room past the block size for the entry that crosses it. */
const HEAD_SLACK_BYTES = 16 * 1024;
/** Heads smaller than this grow even when head memory is tight: smaller blocks would compress poorly. */
const HEAD_GROW_FLOOR = 8 * 1024;
/** A guess at an entry's size in a head, to size a head's summary (see EntrySummary) at first. */
const HEAD_BYTES_PER_ENTRY = 128;
/** Bytes an entry takes in a block body besides its line: the timestamp, two short varints, some spare. */
const ENTRY_OVERHEAD_BYTES = 32;

/** Uncompressed head bytes of every chunk that shares it (one per ingester), and their limit. */
export class HeadMemory {
  used = 0;

  /** `limit`: ingester.head_memory_limit (the ingester compresses the largest heads above it). */
  constructor(readonly limit = Number.POSITIVE_INFINITY) {}

  /** Over half the limit, a full head of at least HEAD_GROW_FLOOR bytes is compressed instead of grown. */
  get tight(): boolean {
    return this.used > this.limit / 2;
  }
}

const EMPTY = Buffer.alloc(0);

interface TimeRange {
  readonly minTs: bigint;
  readonly maxTs: bigint;
}

/**
 * The chunk a stream is writing to: compressed blocks plus a head block of serialized entries, so no entry
 * object outlives the push that carried it. Entries may arrive out of order (within the stream's window);
 * the head is sorted when it is cut into a block, and blocks are re-sorted if they overlap when the chunk
 * is encoded for flushing.
 *
 * Appending is the ingester's innermost step, run once per line for streams spread over the whole heap, so
 * it touches little: the head's bytes (the order check reads the previous entry's timestamp from them) and
 * a few small-integer fields. Time ranges are worked out from the bytes when a query or a cut asks.
 */
export class MemChunk {
  private readonly blocks: CompressedBlock[] = [];
  /** The head block: entries in block-body form, not yet compressed. */
  private head: ByteWriter;
  private headEntries = 0;
  /** True while every head entry is no earlier than the one appended before it. */
  private headSorted = true;
  /** Offset in the head of the last entry appended. */
  private headLastAt = 0;
  /** The head's time range, worked out when asked for; valid while the head has headRangeEntries entries. */
  private headRange: TimeRange = { minTs: 0n, maxTs: 0n };
  private headRangeEntries = -1;
  private blocksBytes = 0;
  private blocksOverlap = false;
  private blocksMinTs = 0n;
  private blocksMaxTs = 0n;
  /** What duplicate lookups need to know of the blocks. */
  private readonly blockIndex = new BlockIndex();
  /** The head summarised for duplicate lookups; made by the first one. */
  private headSummary: EntrySummary | undefined;
  /** The line of the entry appended last, copied when the head holding it is cut. */
  private cutLine: Buffer = EMPTY;
  private cutLineLength = 0;
  /**
   * The sorted head's bytes in shared memory, as far as the last snapshot took them (headMirrorLength). A
   * head only grows at its end until it is cut, so the next snapshot copies just what was appended since,
   * and snapshots of an unchanged head share one copy. Every query takes a snapshot of every stream it
   * reads: copying each head whole into fresh shared memory was 60 ms of a 300 ms query over 200 streams,
   * spent on the server thread before any worker could start.
   */
  private headMirror: Buffer | undefined;
  private headMirrorLength = 0;
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
    this.head = new ByteWriter(busy ? blockSize + HEAD_SLACK_BYTES : HEAD_INITIAL_BYTES);
  }

  /** True once the chunk has reached its target size (compressed blocks plus the uncompressed head). */
  isFull(): boolean {
    return this.size >= this.targetSize;
  }

  get size(): number {
    return this.blocksBytes + this.head.length;
  }

  /** Uncompressed bytes in the head block. */
  get headBytes(): number {
    return this.head.length;
  }

  /** The earliest timestamp in the chunk (0n while it is empty). */
  get minTs(): bigint {
    if (this.headEntries === 0) return this.blocksMinTs;
    const h = this.headTimeRange();
    return this.blocks.length === 0 || h.minTs < this.blocksMinTs ? h.minTs : this.blocksMinTs;
  }

  /** The latest timestamp in the chunk (0n while it is empty). */
  get maxTs(): bigint {
    if (this.headEntries === 0) return this.blocksMaxTs;
    const h = this.headTimeRange();
    return this.blocks.length === 0 || h.maxTs > this.blocksMaxTs ? h.maxTs : this.blocksMaxTs;
  }

  private headTimeRange(): TimeRange {
    if (this.headRangeEntries !== this.headEntries) {
      this.headRange = this.headSorted ? { minTs: this.head.i64At(0), maxTs: this.head.i64At(this.headLastAt) } : bodyTimeRange(this.head.view());
      this.headRangeEntries = this.headEntries;
    }
    return this.headRange;
  }

  append(e: Entry): void {
    // ByteWriter.string reserves 3 bytes per UTF-16 unit before it knows the UTF-8 length.
    this.makeRoom(e.line.length * 3, e.structuredMetadata);
    const lineBytes = Buffer.byteLength(e.line);
    const at = this.head.length;
    appendEntry(this.head, e);
    this.appended(at, lineBytes);
  }

  /**
   * Appends entry k of push columns (the ingest path: bytes are copied, no string or BigInt made).
   * `newest`: the caller knows the entry is no earlier than any the chunk holds, so the head's order need
   * not be checked (that reads the previous entry, a cache miss).
   */
  appendRaw(columns: EntryColumns, k: number, metadata: readonly Label[], newest = false): void {
    const lineBytes = columns.ends[k]! - columns.starts[k]!;
    this.makeRoom(lineBytes, metadata);
    const at = this.head.length;
    appendRawEntry(this.head, columns, k, metadata);
    this.appended(at, lineBytes, newest);
  }

  /**
   * When the next entry (its line taking up to `lineBytes`) would not fit the head's buffer and head memory
   * is tight, a head already of a fair size is compressed into a block and its buffer reused, rather than
   * grown to twice its size: with thousands of streams, each would otherwise keep a buffer of its peak size
   * (mostly empty after the next pressure cut), the largest part of the ingester's memory after the data
   * itself. (An entry with structured metadata is not measured; its head grows as it needs.)
   */
  private makeRoom(lineBytes: number, metadata: readonly Label[]): void {
    const head = this.head;
    if (head.length + lineBytes + ENTRY_OVERHEAD_BYTES <= head.capacity || metadata.length > 0) return;
    if (this.memory.tight && head.capacity >= HEAD_GROW_FLOOR && this.headEntries > 0) this.compressHead(head.capacity);
  }

  /** Bookkeeping for the entry just written to the head at offset `at`. */
  private appended(at: number, lineBytes: number, newest = false): void {
    const head = this.head;
    if (!newest && this.headSorted && this.headEntries > 0 && head.compareI64At(at, this.headLastAt) < 0) this.headSorted = false;
    this.headLastAt = at;
    this.headEntries++;
    this.entries++;
    this.lineBytes += lineBytes;
    this.memory.used += head.length - at;
    if (head.length >= this.blockSize) this.cutFullBlock();
  }

  /**
   * The line of the entry appended last (after its head was cut too), as bytes [start, end) of `buf`; the
   * stream compares a new entry with it to drop duplicates without keeping a copy of every newest line.
   */
  lastLine(): LineBytes {
    if (this.headEntries === 0) return { buf: this.cutLine, start: 0, end: this.cutLineLength };
    return this.head.lineAt(this.headLastAt);
  }

  /**
   * True if the chunk holds an entry with the probe's timestamp and line. Of the blocks, only those whose
   * time range holds the timestamp and whose filter does not rule it out are decompressed and read (see
   * BlockIndex); the head is summarised the same way (see EntrySummary).
   */
  holds(probe: EntryProbe): boolean {
    if (
      this.headEntries > 0 &&
      (this.headSummary ??= new EntrySummary(this.head.capacity / HEAD_BYTES_PER_ENTRY)).holds(this.head.buffer, this.head.length, probe)
    )
      return true;
    return this.blockIndex.holds(this.encoding, this.blocks, probe);
  }

  /**
   * Compresses the head block into a new block. `stillWriting`: the chunk is open, so its head will fill
   * again and keeps its buffer; otherwise a small head is started and the memory given back.
   */
  cutBlock(stillWriting = false): void {
    this.compressHead(stillWriting ? this.head.capacity : HEAD_INITIAL_BYTES);
  }

  /**
   * The head reached the block size: this stream is busy and will fill the next head too, so it gets a
   * block-sized buffer at once instead of growing one by doubling (which copies as much as it stores).
   */
  private cutFullBlock(): void {
    this.compressHead(this.blockSize + HEAD_SLACK_BYTES);
  }

  private compressHead(nextCapacity: number): void {
    const head = this.head;
    if (this.headEntries === 0) return;
    const { minTs, maxTs } = this.headTimeRange();
    const raw = this.headSorted ? head.view() : sortBlockBody(head.view());
    this.memory.used -= head.length;
    this.pushBlock({ minTs, maxTs, entries: this.headEntries, data: compressBlock(this.encoding, raw, sharedBytes), uncompressedLength: raw.length });
    const last = head.lineAt(this.headLastAt);
    if (this.cutLine.length < last.end - last.start) this.cutLine = Buffer.allocUnsafe(last.end - last.start);
    this.cutLineLength = copyBytes(last.buf, last.start, last.end, this.cutLine, 0);
    // The block holds a compressed copy, so a busy stream's next head reuses the buffer: allocating a
    // fresh block-sized one per block was most of the ingester's external-memory churn, and that churn is
    // what sets off V8's full collections.
    // So does an open chunk's head cut over head_memory_limit; one cut when idle or closed gives it back.
    if (nextCapacity > HEAD_INITIAL_BYTES && head.capacity >= nextCapacity) head.reset();
    else this.head = new ByteWriter(nextCapacity);
    this.headEntries = 0;
    this.headSorted = true;
    this.headLastAt = 0;
    this.headRangeEntries = -1;
    this.headSummary?.reset();
    // Snapshots taken before the cut keep the mirror; the next head's bytes go to a new one.
    this.headMirror = undefined;
    this.headMirrorLength = 0;
  }

  private pushBlock(block: CompressedBlock): void {
    const prev = this.blocks[this.blocks.length - 1];
    if (prev && block.minTs < prev.maxTs) this.blocksOverlap = true;
    if (!prev || block.minTs < this.blocksMinTs) this.blocksMinTs = block.minTs;
    if (!prev || block.maxTs > this.blocksMaxTs) this.blocksMaxTs = block.maxTs;
    this.blocks.push(block);
    this.blockIndex.add(block);
    this.blocksBytes += block.data.length;
  }

  /**
   * A point-in-time copy of the contents as plain data (no class instance, no function), so it can be
   * read on another thread: the sealed blocks are shared (they never change, and live in shared memory),
   * the head's bytes are copied into shared memory of their own, sorted if entries came out of order.
   */
  snapshot(): ChunkSnapshot {
    let head: SnapshotBlock | undefined;
    if (this.headEntries > 0) {
      const { minTs, maxTs } = this.headTimeRange();
      const body = this.headSorted ? this.mirroredHead() : sharedCopy(sortBlockBody(this.head.view()));
      head = { minTs, maxTs, entries: this.headEntries, data: body, uncompressedLength: body.length };
    }
    return { encoding: this.encoding, blocks: this.blocks.slice(), head };
  }

  /**
   * The sorted head's bytes in shared memory: the mirror brought up to date. Bytes a snapshot already took
   * are never written again (the head only appends until it is cut, and a cut drops the mirror), so earlier
   * snapshots stay valid while a worker thread reads them.
   */
  private mirroredHead(): Buffer {
    const view = this.head.view();
    if (!this.headMirror || this.headMirror.length < view.length) {
      // Room to grow into, as the head has, but no more than twice what it holds: a quiet stream's
      // mirror stays small.
      this.headMirror = sharedBytes(Math.min(this.head.capacity, Math.max(2 * view.length, HEAD_INITIAL_BYTES)));
      this.headMirrorLength = 0;
    }
    if (view.length > this.headMirrorLength) this.headMirrorLength += view.copy(this.headMirror, this.headMirrorLength, this.headMirrorLength);
    return this.headMirror.subarray(0, view.length);
  }

  /** Every entry, blocks first and then the head, each in the order it is stored. */
  allEntries(): Entry[] {
    return [...snapshotEntries(this.snapshot())];
  }

  /**
   * A new chunk like this one holding `entries` (some of this one's, in its order), for taking back the
   * entries of pushes whose WAL write failed. This one's head memory is given back; its bytes stay readable
   * for a query that is reading it already.
   */
  rebuiltWith(entries: readonly Entry[]): MemChunk {
    const next = new MemChunk(this.encoding, this.blockSize, this.targetSize, false, this.memory);
    for (const e of entries) next.append(e);
    this.memory.used -= this.head.length;
    return next;
  }

  /** Cuts the head and writes the chunk's bytes; blocks that overlap in time are re-sorted first. */
  encode(): Buffer {
    this.cutBlock();
    if (this.blocksOverlap) this.resortBlocks();
    return encodeChunk(this.encoding, this.blocks);
  }

  private resortBlocks(): void {
    const all = entriesOfRuns(readSnapshotBlocks(this.snapshot(), this.minTs, this.maxTs + 1n, false));
    this.blocks.length = 0;
    this.blockIndex.clear();
    this.blocksBytes = 0;
    this.blocksOverlap = false;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < all.length; i++) {
      bytes += all[i]!.line.length + 16;
      if (bytes >= this.blockSize || i === all.length - 1) {
        const part = all.slice(start, i + 1);
        const raw = encodeBlockBody(part);
        this.pushBlock({
          minTs: part[0]!.timestamp,
          maxTs: part[part.length - 1]!.timestamp,
          entries: part.length,
          data: compressBlock(this.encoding, raw, sharedBytes),
          uncompressedLength: raw.length,
        });
        start = i + 1;
        bytes = 0;
      }
    }
  }
}

/** A copy of `bytes` in shared memory of its own (not a slice of Buffer's pool). */
function sharedCopy(bytes: Buffer): Buffer {
  const out = sharedBytes(bytes.length);
  bytes.copy(out);
  return out;
}
