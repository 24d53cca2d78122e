import type { LabelMatcher, Labels } from '@loki-lite/shared';
import type { MemoryChunkSnapshot } from '../chunk/snapshot.js';

/*
 * What the querier reads from the ingester: the streams it holds in memory. The querier owns this
 * interface (it is the consumer); the ingester implements it.
 */

/** A stream held in the ingester's memory, as the querier sees it. */
export interface MemoryStream {
  readonly labels: Labels;
  readonly labelsString: string;
  /** Copies of its chunks with entries in [from, through), taken at once (plain data: see ChunkSnapshot). */
  chunkSnapshots(from: bigint, through: bigint): MemoryChunkSnapshot[];
  overlaps(from: bigint, through: bigint): boolean;
  chunkStats(from: bigint, through: bigint): { chunks: number; entries: number; bytes: number };
}

/** What the querier needs from the ingester (the consumer owns the interface). */
export interface MemoryStreams {
  streamsMatching(tenant: string, matchers: readonly LabelMatcher[]): MemoryStream[];
}
