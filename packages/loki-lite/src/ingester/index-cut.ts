import type { Labels, Logger } from '@loki-lite/shared';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import type { Metrics } from '../metrics.js';
import type { LogStore, PlannedIndexFile } from '../storage/log-store.js';
import type { FlushItem } from './flush.js';
import type { ChunkDesc, Stream } from './stream.js';

/** A tenant's index cut: the flushed chunks it lists, and its files not yet written. */
interface IndexCut {
  readonly items: readonly FlushItem[];
  unwritten: readonly PlannedIndexFile[];
}

export interface IndexCutDeps {
  readonly store: LogStore;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => number;
  /** ingester.chunk_retain_period, in ms. */
  readonly retainMs: number;
}

/** A chunk an index file lists, kept in memory until `untilMs`. */
interface RetainedChunk {
  readonly stream: Stream;
  readonly desc: ChunkDesc;
  readonly untilMs: number;
}

/**
 * Lists flushed chunks in index files, one per tenant (and 24h table) every index_cut_period, and only then
 * lets the chunks leave memory: until a reader can find a chunk through the index, the ingester's copy is
 * the only way a query sees it. Even then a chunk stays for ingester.chunk_retain_period (Loki's key,
 * default 0): a querier in another process lists a table's index files from a cache some seconds old, and
 * until its listing shows the new file, the ingester's copy is still the only one it can see. The period
 * starts when the index file is written: that is when readers can find the chunk in the store, which in
 * Loki (index written with the chunk) is the flush. Retained chunks leave on the first flush check after
 * the period ends, as in Loki, and a WAL checkpoint leaves them out: they are in the store for good.
 */
export class IndexCutter {
  /** Per tenant, the chunks flushed since its last cut. */
  private readonly awaitingIndex = new Map<string, FlushItem[]>();
  /** Per tenant, the cut some of whose index files failed: the next cut writes just those first. */
  private readonly unfinishedCuts = new Map<string, IndexCut>();
  /** Indexed chunks still in memory for chunk_retain_period, oldest first. */
  private retained: RetainedChunk[] = [];

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
    this.indexed(cut.items);
  }

  /** The chunks are listed by an index file: they leave memory now, or once chunk_retain_period has passed. */
  private indexed(items: readonly FlushItem[]): void {
    const { retainMs, now } = this.deps;
    if (retainMs <= 0) {
      for (const { stream, desc } of items) removeChunk(stream, desc);
      return;
    }
    const untilMs = now() + retainMs;
    for (const { stream, desc } of items) {
      desc.state = 'indexed';
      this.retained.push({ stream, desc, untilMs });
    }
  }

  /** Lets the retained chunks whose chunk_retain_period has passed leave memory (the flush check calls it). */
  releaseRetained(): void {
    if (this.retained.length === 0) return;
    const now = this.deps.now();
    const due = this.retained.filter((r) => r.untilMs <= now);
    if (due.length === 0) return;
    for (const { stream, desc } of due) removeChunk(stream, desc);
    this.retained = this.retained.filter((r) => r.untilMs > now);
  }
}

function removeChunk(stream: Stream, desc: ChunkDesc): void {
  const i = stream.chunks.indexOf(desc);
  if (i >= 0) stream.chunks.splice(i, 1);
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
