import { byTimestamp, type Entry } from '../chunk/entry.js';
import type { MemChunk } from '../chunk/mem-chunk.js';
import { entriesOfRuns, readChunkBlocks, readSnapshotBlocks } from '../chunk/reader.js';
import type { MemoryChunkSnapshot } from '../chunk/snapshot.js';

/*
 * What a test reads back from chunks, read as a query reads them: through the chunk reader, a chunk in
 * memory from its snapshot. The chunk code and the streams have no test-only way to list their entries.
 */

/** The entries of a stored chunk (its encoded bytes) with from <= timestamp < through, in timestamp order. */
export function storedChunkEntries(bytes: Buffer, from: bigint, through: bigint): Entry[] {
  return entriesOfRuns(readChunkBlocks(bytes, from, through, false));
}

/** The entries of a chunk in memory with from <= timestamp < through, in timestamp order. */
export function memChunkEntries(chunk: MemChunk, from: bigint, through: bigint): Entry[] {
  return entriesOfRuns(readSnapshotBlocks(chunk.snapshot(), from, through, false));
}

/** What a query of the ingester takes from one stream: snapshots of its chunks in memory. */
interface StreamInMemory {
  chunkSnapshots(from: bigint, through: bigint): readonly MemoryChunkSnapshot[];
}

/**
 * Every entry a stream holds in memory with from <= timestamp < through, from the snapshots a query takes,
 * in timestamp order (equal timestamps in chunk order). Copies are kept, not merged away as a query's merge
 * would, so a test sees an entry the stream holds twice.
 */
export function streamEntries(stream: StreamInMemory, from: bigint, through: bigint): Entry[] {
  const all = stream.chunkSnapshots(from, through).flatMap((s) => entriesOfRuns(readSnapshotBlocks(s.chunk, from, through, false)));
  return all.sort(byTimestamp);
}
