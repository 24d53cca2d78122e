import { SnappyScratchDecoder } from '@loki-lite/shared';
import type { BytePrefilter } from '../logql/log/prefilter.js';
import { BlockCursor } from './block.js';
import { byTimestamp, type Entry } from './entry.js';
import { type BlockMeta, decodeChunk, decompressBlock, decompressBlockWith, readBlock } from './format.js';
import type { ChunkSnapshot, SnapshotBlock } from './snapshot.js';

/*
 * Reading a chunk's entries for queries, block by block: stored chunks (their encoded bytes) and snapshots
 * of chunks still in memory (snapshot.ts) go through the one block reader here.
 */

/** Every entry of a snapshot (blocks first, then the head; not merged into one order). */
export function* snapshotEntries(s: ChunkSnapshot): Generator<Entry> {
  for (const b of s.blocks) {
    const cursor = new BlockCursor(decompressBlock(s.encoding, asBuffer(b.data), b.uncompressedLength));
    while (cursor.next()) yield cursor.entry();
  }
  if (!s.head) return;
  const cursor = new BlockCursor(asBuffer(s.head.data));
  while (cursor.next()) yield cursor.entry();
}

/** A Buffer over the same memory (structuredClone turns a Buffer into a Uint8Array). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Blocks are decoded into this one buffer: a read turns a block's lines into entries (strings) in one
 * synchronous step, so nothing refers to the buffer afterwards, and a fresh 256 KB buffer per block only
 * feeds the garbage collector.
 */
const blockScratch = new SnappyScratchDecoder();

/**
 * Lines of the read's time range and their UTF-8 bytes, counted as blocks are decoded (Loki's decompressed
 * lines and bytes), whether a prefilter then rules them out or they become entries.
 */
export interface LinesRead {
  lines: number;
  bytes: number;
}

/** A chunk's entries as runs: each sorted by timestamp, in the walk's order, not overlapping. */
export interface BlockRuns {
  next(): Entry[] | undefined;
}

/**
 * The entries of an encoded (stored) chunk with from <= timestamp < through, one block at a time
 * (decompressed when asked for, its CRC checked), in time order or reversed.
 */
export function readChunkBlocks(bytes: Buffer, from: bigint, through: bigint, backward: boolean, prefilter?: BytePrefilter, read?: LinesRead): BlockRuns {
  const chunk = decodeChunk(bytes);
  return readBlocks(chunk.blocks, (b: BlockMeta) => readBlock(chunk, b, blockScratch), from, through, backward, prefilter, read);
}

/** readChunkBlocks for a chunk in memory, from its snapshot (or a structured clone of one). */
export function readSnapshotBlocks(s: ChunkSnapshot, from: bigint, through: bigint, backward: boolean, prefilter?: BytePrefilter, read?: LinesRead): BlockRuns {
  const head = s.head;
  const blocks = head ? [...s.blocks, head] : s.blocks;
  const bodyOf = (b: SnapshotBlock) => (b === head ? asBuffer(b.data) : decompressBlockWith(blockScratch, s.encoding, asBuffer(b.data), b.uncompressedLength));
  return readBlocks(blocks, bodyOf, from, through, backward, prefilter, read);
}

/** Every entry of the runs in one list, in the walk's order. */
export function entriesOfRuns(runs: BlockRuns): Entry[] {
  const out: Entry[] = [];
  for (let run = runs.next(); run; run = runs.next()) for (const e of run) out.push(e);
  return out;
}

interface TimedBlock {
  readonly minTs: bigint;
  readonly maxTs: bigint;
}

/**
 * The one block reader of stored chunks and memory snapshots. Blocks are given in the order they were
 * written; those in [from, through) are grouped so that groups do not overlap in time (a stored chunk's
 * blocks never do: each is a group; in memory a block of late entries joins the blocks it overlaps), and
 * each group is one run, made when the walk reaches it. Lines the prefilter rules out never become
 * entries (no string, no BigInt); a block wholly inside the range needs no timestamp test either.
 */
function readBlocks<B extends TimedBlock>(
  all: readonly B[],
  bodyOf: (b: B) => Buffer,
  from: bigint,
  through: bigint,
  backward: boolean,
  /** Lines failing this are left out without becoming entries (they are still counted in `read`). */
  prefilter?: BytePrefilter,
  read?: LinesRead,
): BlockRuns {
  const groups = overlapGroups(all.filter((b) => b.maxTs >= from && b.minTs < through));
  if (backward) groups.reverse();
  let i = 0;
  return {
    next() {
      const group = groups[i++];
      if (!group) return undefined;
      const out: Entry[] = [];
      for (const b of group.blocks) readBlockInto(bodyOf(b), b.minTs >= from && b.maxTs < through, from, through, out, prefilter, read);
      // Blocks of one group overlap: a stable sort keeps equal timestamps in the order they were written.
      if (group.blocks.length > 1) out.sort(byTimestamp);
      return out;
    },
  };
}

/** The entries of one block body that pass the range (unless `inside`) and the prefilter, appended to `out`. */
function readBlockInto(
  body: Buffer,
  inside: boolean,
  from: bigint,
  through: bigint,
  out: Entry[],
  prefilter: BytePrefilter | undefined,
  read: LinesRead | undefined,
): void {
  const cursor = new BlockCursor(body);
  prefilter?.reset();
  while (cursor.next()) {
    if (!inside) {
      const ts = cursor.timestamp;
      if (ts < from || ts >= through) continue;
    }
    if (read) {
      read.lines++;
      read.bytes += cursor.lineEnd - cursor.lineStart;
    }
    if (prefilter && !prefilter.keeps(cursor.buf, cursor.lineStart, cursor.lineEnd, cursor.hasMetadata)) continue;
    out.push(cursor.entry());
  }
}

/**
 * Consecutive blocks joined into groups whose time ranges do not overlap, in written order. A block that
 * starts before the previous group ends joins it (and that group joins the one before, while they
 * overlap); every block of a group was written after every block of the groups before it, so equal
 * timestamps across groups keep their written order.
 */
function overlapGroups<B extends TimedBlock>(blocks: readonly B[]): Array<{ minTs: bigint; maxTs: bigint; blocks: B[] }> {
  const groups: Array<{ minTs: bigint; maxTs: bigint; blocks: B[] }> = [];
  for (const b of blocks) {
    let top = { minTs: b.minTs, maxTs: b.maxTs, blocks: [b] };
    for (let below = groups[groups.length - 1]; below && top.minTs < below.maxTs; below = groups[groups.length - 1]) {
      groups.pop();
      top = {
        minTs: below.minTs < top.minTs ? below.minTs : top.minTs,
        maxTs: below.maxTs > top.maxTs ? below.maxTs : top.maxTs,
        blocks: [...below.blocks, ...top.blocks],
      };
    }
    groups.push(top);
  }
  return groups;
}
