import type { Labels, Logger } from '@loki-lite/shared';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import type { Metrics } from '../metrics.js';
import type { LogStore, PlannedIndexFile } from '../storage/log-store.js';
import type { FlushItem } from './flush.js';

/** A tenant's index cut: the flushed chunks it lists, and its files not yet written. */
interface IndexCut {
  readonly items: readonly FlushItem[];
  unwritten: readonly PlannedIndexFile[];
}

export interface IndexCutDeps {
  readonly store: LogStore;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * Lists flushed chunks in index files, one per tenant (and 24h table) every index_cut_period, and only then
 * lets the chunks leave memory: until a reader can find a chunk through the index, the ingester's copy is
 * the only way a query sees it.
 */
export class IndexCutter {
  /** Per tenant, the chunks flushed since its last cut. */
  private readonly awaitingIndex = new Map<string, FlushItem[]>();
  /** Per tenant, the cut some of whose index files failed: the next cut writes just those first. */
  private readonly unfinishedCuts = new Map<string, IndexCut>();

  constructor(private readonly deps: IndexCutDeps) {}

  /** A chunk is in the store: the next cut lists it. */
  chunkFlushed(item: FlushItem): void {
    let list = this.awaitingIndex.get(item.tenant);
    if (!list) this.awaitingIndex.set(item.tenant, (list = []));
    list.push(item);
  }

  /**
   * Writes the index files for the chunks flushed since the last cut. A cut is planned once: if some of its
   * files fail, the next cut first writes just those, under the same keys. (Planning the chunks into a new
   * cut instead listed them in a second file of every table whose file had been written.) Throws if any
   * file fails.
   */
  async cut(): Promise<void> {
    for (const tenant of new Set([...this.unfinishedCuts.keys(), ...this.awaitingIndex.keys()])) {
      const unfinished = this.unfinishedCuts.get(tenant);
      if (unfinished) await this.finish(tenant, unfinished);
      const items = this.awaitingIndex.get(tenant);
      if (!items || items.length === 0) continue;
      this.awaitingIndex.set(tenant, []);
      const cut: IndexCut = { items, unwritten: this.deps.store.planIndex(tenant, seriesOf(items)) };
      this.unfinishedCuts.set(tenant, cut);
      await this.finish(tenant, cut);
    }
  }

  /** Writes the cut's unwritten files; once all are written, its chunks leave memory. Throws if any fails. */
  private async finish(tenant: string, cut: IndexCut): Promise<void> {
    const { store, metrics, log } = this.deps;
    // Every put is waited for, failed or not: a retry never races an attempt still in flight.
    const results = await Promise.allSettled(cut.unwritten.map((file) => store.writeIndexFile(file)));
    cut.unwritten = cut.unwritten.filter((_, i) => results[i]!.status === 'rejected');
    metrics.indexFilesWritten.inc(results.length - cut.unwritten.length);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      metrics.indexWriteFailures.inc(cut.unwritten.length);
      throw new Error(`writing the index of tenant ${tenant} failed; will retry: ${(failure.reason as Error).message}`);
    }
    this.unfinishedCuts.delete(tenant);
    log.debug(`index cut for tenant ${tenant}: ${results.length} index files for ${cut.items.length} chunks written`);
    for (const { stream, desc } of cut.items) {
      const i = stream.chunks.indexOf(desc);
      if (i >= 0) stream.chunks.splice(i, 1);
    }
  }
}

/** The flushed chunks' refs, by series. */
function seriesOf(items: readonly FlushItem[]): SeriesChunks[] {
  const bySeries = new Map<string, { labels: Labels; refs: ChunkRef[] }>();
  for (const { stream, desc } of items) {
    let s = bySeries.get(stream.fingerprint);
    if (!s) bySeries.set(stream.fingerprint, (s = { labels: stream.labels, refs: [] }));
    s.refs.push(desc.ref!);
  }
  return [...bySeries].map(([fingerprint, s]) => ({ fingerprint, labels: s.labels, chunks: s.refs }));
}
