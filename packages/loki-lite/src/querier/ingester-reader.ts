import type { LabelMatcher, LabelMatcherData } from '@loki-lite/shared';
import type { MemoryStreamStats } from '../chunk/snapshot.js';
import type { CallContext, MemoryLogs, MemoryLogsSelection, MemorySamples, MemorySamplesSelection } from '../shard/selection.js';

/*
 * What the querier reads from the ingester: the streams it holds in memory, as Loki's querier asks its
 * ingesters (their Query, QuerySample, Series, Label and GetStats calls). The querier owns this interface
 * (it is the consumer); the ingester implements it. It is a seam between roles, so it carries data only:
 * async calls whose arguments and results survive structuredClone (no closures, no live streams), so that
 * it can become a network call. The query's pipeline runs on the ingester's side (shard/selection.ts).
 */
export interface IngesterReader {
  /**
   * A log selection over the tenant's streams in memory: each resulting label set's lines, the `limit`
   * nearest the start (forward) or end (backward). The ingester takes its snapshots when called, before
   * the call's first await: the querier reads the index after calling, so that a chunk an index cut lists
   * meanwhile is found in one place or both, never in neither (the merge drops the copies).
   */
  selectLogs(selection: MemoryLogsSelection, ctx: CallContext): Promise<MemoryLogs>;

  /** A range aggregation's samples over the tenant's streams in memory, per stream, as selectLogs. */
  selectSamples(selection: MemorySamplesSelection, ctx: CallContext): Promise<MemorySamples>;

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
