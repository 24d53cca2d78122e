import { type LabelMatcher, type Labels, printLabels } from '@loki-lite/shared';
import type { LogStore } from '../storage/log-store.js';
import { type IngesterReader, matcherData } from './ingester-reader.js';
import { acrossTenants, withTenantLabel } from './multi-tenant.js';
import { volumeGroups } from './volume.js';

/*
 * The querier's metadata queries (Loki's Label, Series, IndexStats and Volume): answered from label sets
 * and chunk-level counts of the ingester's memory and the index, without opening a chunk.
 */

export interface IndexStats {
  streams: number;
  chunks: number;
  bytes: number;
  entries: number;
}

/** A stream's label set with the counts of its chunks in a time range. */
interface StreamChunkStats {
  readonly labels: Labels;
  chunks: number;
  entries: number;
  bytes: number;
}

/** Label names and values, series, index stats and volume over the ingester's memory and the index. */
export class MetadataQuerier {
  constructor(
    private readonly memory: IngesterReader,
    private readonly store: LogStore,
  ) {}

  /** Label names of streams with data in [from, through]. */
  async labelNames(tenant: string, from: bigint, through: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]> {
    const names = new Set<string>();
    for (const labels of await this.seriesLabels(tenant, matchers ?? [], from, through)) for (const l of labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(tenant: string, name: string, from: bigint, through: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]> {
    const values = new Set<string>();
    for (const labels of await this.seriesLabels(tenant, matchers ?? [], from, through)) {
      for (const l of labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort();
  }

  /** Distinct label sets of the streams matching any of the selectors (all streams when none given). */
  async series(tenant: string, selectors: ReadonlyArray<readonly LabelMatcher[]>, from: bigint, through: bigint): Promise<Labels[]> {
    const out = new Map<string, Labels>();
    for (const matchers of selectors.length > 0 ? selectors : [[]]) {
      for (const labels of await this.seriesLabels(tenant, matchers, from, through)) out.set(printLabels(labels), labels);
    }
    return [...out.values()];
  }

  /**
   * Loki's index/stats: streams, chunks, entries and line bytes of the matching data in [from, through],
   * from the index and the ingester's memory (a chunk is in one or the other), without opening a chunk.
   */
  async indexStats(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<IndexStats> {
    const stats: IndexStats = { streams: 0, chunks: 0, bytes: 0, entries: 0 };
    for (const s of await this.streamChunkStats(tenant, matchers, from, through)) {
      stats.streams++;
      stats.chunks += s.chunks;
      stats.entries += s.entries;
      stats.bytes += s.bytes;
    }
    return stats;
  }

  /**
   * Loki's index/volume: line bytes of the matching streams in [from, through] from the index and memory
   * (chunk-level, no chunk opened), summed per group (see volumeGroups).
   */
  async volume(
    tenant: string,
    matchers: readonly LabelMatcher[],
    from: bigint,
    through: bigint,
    target: readonly string[],
    aggregateBy: 'series' | 'labels',
  ): Promise<Array<{ labels: Labels; bytes: number }>> {
    const perStream = await this.streamChunkStats(tenant, matchers, from, through);
    return volumeGroups(
      perStream,
      matchers.map((m) => m.name),
      target,
      aggregateBy,
    );
  }

  /** Per stream with data in [from, through]: its chunks in memory and in the index, counted together. */
  private async streamChunkStats(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<StreamChunkStats[]> {
    const streams = new Map<string, StreamChunkStats>();
    for (const m of await this.memory.streamStats(tenant, matcherData(matchers), from, through)) {
      streams.set(m.labelsString, { labels: m.labels, chunks: m.chunks, entries: m.entries, bytes: m.bytes });
    }
    for (const s of await this.store.selectSeries(tenant, matchers, from, through)) {
      const key = printLabels(s.labels);
      let total = streams.get(key);
      if (!total) streams.set(key, (total = { labels: s.labels, chunks: 0, entries: 0, bytes: 0 }));
      for (const c of s.chunks) {
        total.chunks++;
        total.entries += c.entries;
        total.bytes += c.lineBytes;
      }
    }
    return [...streams.values()];
  }

  /** Label sets of the streams with data in [from, through] (for `a|b`, every tenant's, with __tenant_id__). */
  private async seriesLabels(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<Labels[]> {
    const read = (t: string, m: readonly LabelMatcher[]) => this.tenantSeriesLabels(t, m, from, through);
    return (await acrossTenants(tenant, matchers, read, withTenantLabel)).results;
  }

  private async tenantSeriesLabels(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<Labels[]> {
    const out = new Map<string, Labels>();
    for (const m of await this.memory.streamStats(tenant, matcherData(matchers), from, through)) out.set(m.labelsString, m.labels);
    for (const s of await this.store.selectSeries(tenant, matchers, from, through)) {
      const key = printLabels(s.labels);
      if (!out.has(key)) out.set(key, s.labels);
    }
    return [...out.values()];
  }
}
