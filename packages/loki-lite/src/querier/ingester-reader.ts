import type { LabelMatcher, LabelMatcherData } from '@loki-lite/shared';
import type { MemoryStreamChunks, MemoryStreamStats } from '../chunk/snapshot.js';

/*
 * What the querier reads from the ingester: the streams it holds in memory, as Loki's querier asks its
 * ingesters (their Query, Series, Label and GetStats calls). The querier owns this interface (it is the
 * consumer); the ingester implements it. It is a seam between roles, so it carries data only: async calls
 * whose arguments and results survive structuredClone (no closures, no live streams), so that it can become
 * a network call. Snapshots are taken once per call, as a query has always taken them.
 */
export interface IngesterReader {
  /**
   * Every stream of the tenant matching all matchers with entries in [from, through), with point-in-time
   * snapshots of those of its chunks (taken when called: see sources.ts for why that order matters).
   */
  streamChunks(tenant: string, matchers: readonly LabelMatcherData[], from: bigint, through: bigint): Promise<MemoryStreamChunks[]>;

  /**
   * Every stream of the tenant matching all matchers with chunks overlapping [from, through] (inclusive, as
   * metadata queries are), with their chunk, entry and line-byte counts.
   */
  streamStats(tenant: string, matchers: readonly LabelMatcherData[], from: bigint, through: bigint): Promise<MemoryStreamStats[]>;
}

/** Matchers as data for the seam: the compiled test stays on this side. */
export function matcherData(matchers: readonly LabelMatcher[]): LabelMatcherData[] {
  return matchers.map(({ name, type, value }) => ({ name, type, value }));
}
