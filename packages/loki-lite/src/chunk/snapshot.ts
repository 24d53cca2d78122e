import type { Labels } from '@loki-lite/shared';
import type { ChunkEncoding } from './format.js';

/*
 * Chunks in the ingester's memory as queries and WAL checkpoints read them: plain data taken from a
 * MemChunk (mem-chunk.ts), read by reader.ts, possibly on a worker thread.
 */

/** A block of a snapshot: compressed with the chunk's encoding, or (the head) its body as is. */
export interface SnapshotBlock {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly entries: number;
  /** A Buffer when taken; a structured clone turns it into a plain Uint8Array, which readers accept. */
  readonly data: Uint8Array;
  readonly uncompressedLength: number;
}

/**
 * A point-in-time copy of a chunk's contents (MemChunk.snapshot), for queries and WAL checkpoints. Plain
 * data: it survives structuredClone and postMessage.
 */
export interface ChunkSnapshot {
  readonly encoding: ChunkEncoding;
  /** The sealed blocks in the order they were cut, each sorted; they may overlap (late entries). */
  readonly blocks: readonly SnapshotBlock[];
  /** The head block, uncompressed and sorted; undefined when the head is empty. */
  readonly head: SnapshotBlock | undefined;
}

/**
 * A chunk in the ingester's memory as a query reads it: its time range when taken, and its contents. The
 * ingester makes them and the querier reads them, so the shape lives with the chunk, below both.
 */
export interface MemoryChunkSnapshot {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly chunk: ChunkSnapshot;
}

/** A stream in the ingester's memory with the counts of its chunks in a time range: what metadata queries read. */
export interface MemoryStreamStats {
  readonly labels: Labels;
  /** The label set printed (printLabels). */
  readonly labelsString: string;
  readonly chunks: number;
  readonly entries: number;
  /** Line bytes. */
  readonly bytes: number;
}

/**
 * Bytes in shared memory: a query's worker threads read a snapshot's blocks in place, where a posted
 * Buffer would be copied whole (the 100 MB of blocks of a busy ingester took 2.8–3.4 s to post copied,
 * 60–100 ms shared: see shard/pool/README.md).
 */
export function sharedBytes(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length));
}
