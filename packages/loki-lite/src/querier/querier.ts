import { setMaxListeners } from 'node:events';
import { type LabelMatcher, type Labels, LokiError, printLabels } from '@loki-lite/shared';
import type { MemoryChunkSnapshot } from '../chunk/snapshot.js';
import type { ChunkRef } from '../index/types.js';
import type { Direction } from '../iter/direction.js';
import type { StreamSamples } from '../logql/engine/evaluate.js';
import type { RangeFold } from '../logql/engine/fold.js';
import type { Grouping, LogSelectorExpr, RangeAggregationExpr } from '../logql/syntax/ast.js';
import { toWire } from '../logql/syntax/wire.js';
import type { LogStore } from '../storage/log-store.js';
import { startUnlessAborted } from '../util/abort.js';
import {
  type FoldShard, type LogsShard, mergeLogGroups, runShard, type SamplesShard, type ShardResult, type ShardStream, type ShardTask, sortSeries,
} from './shard.js';
import { byStream, byStreamAndTime } from './shard-plan.js';
import { alignedSplits, mergeSplitAnswers } from './split.js';
import { newQueryStats, type QueryStats, type StreamResult, throwIfStopped } from './types.js';

/** A stream held in the ingester's memory, as the querier sees it. */
export interface MemoryStream {
  readonly labels: Labels;
  readonly labelsString: string;
  /** Copies of its chunks with entries in [from, through), taken at once (plain data: see ChunkSnapshot). */
  chunkSnapshots(from: bigint, through: bigint): MemoryChunkSnapshot[];
  overlaps(from: bigint, through: bigint): boolean;
  chunkStats(from: bigint, through: bigint): Omit<IndexStats, 'streams'>;
}

/** What the querier needs from the ingester (the consumer owns the interface). */
export interface MemoryStreams {
  streamsMatching(tenant: string, matchers: readonly LabelMatcher[]): MemoryStream[];
}

export interface IndexStats {
  streams: number;
  chunks: number;
  bytes: number;
  entries: number;
}

export interface LogQuery {
  readonly selector: LogSelectorExpr;
  /** Inclusive. */
  readonly from: bigint;
  /** Exclusive. */
  readonly through: bigint;
  readonly direction: Direction;
  readonly limit: number;
  /**
   * Loki's categorize-labels encoding: streams keyed by their indexed labels only; each entry keeps its
   * structured metadata and parsed labels.
   */
  readonly categorize?: boolean;
  /** Answer per aligned interval and merge as Loki's query frontend does (split_queries_by_interval). */
  readonly splitInterval?: bigint;
}

/** Runs a query's shards: on worker threads (pool/worker-pool.ts) or on this thread (InProcessShards). */
export interface ShardRunner {
  /** `stop` is aborted when the query ends early; the shard then rejects with its reason. */
  run(task: ShardTask, stop: { readonly signal: AbortSignal; readonly deadlineMs: number | undefined }): Promise<ShardResult>;
  close(): Promise<void>;
}

export interface QuerierOptions {
  /** Loki's discover_log_levels: every line read gets detected_level (see level-detection.ts). */
  readonly discoverLogLevels: boolean;
  /** Where shards run; by default on this thread. */
  readonly shards?: ShardRunner;
  /** How many shards a query is cut into (stream groups, then time ranges); by default 1. */
  readonly shardsPerQuery?: number;
}

/**
 * Answers log selections and metadata queries by merging the ingester's memory with the object store.
 * An entry present in both (flushed but still held in memory) is returned once.
 */
export class Querier {
  private readonly shards: ShardRunner;
  private readonly shardsPerQuery: number;

  constructor(
    private readonly memory: MemoryStreams,
    private readonly store: LogStore,
    private readonly options: QuerierOptions = { discoverLogLevels: false },
  ) {
    this.shards = options.shards ?? new InProcessShards(store);
    this.shardsPerQuery = Math.max(1, options.shardsPerQuery ?? 1);
  }

  /** Stops the shard runner (the worker threads). */
  close(): Promise<void> {
    return this.shards.close();
  }

  async selectLogs(tenant: string, q: LogQuery, stats: QueryStats): Promise<StreamResult[]> {
    const interval = q.splitInterval ?? 0n;
    if (interval <= 0n || q.through - q.from <= interval - (q.from % interval)) return this.selectLogsOnce(tenant, q, stats);
    // Loki's query frontend: the intervals in the query's direction, each answered with its own limit,
    // until together they hold at least `limit` lines; then merged (mergeSplitAnswers).
    const splits = alignedSplits(q.from, q.through, interval);
    if (q.direction === 'backward') splits.reverse();
    const answers: StreamResult[][] = [];
    let total = 0;
    for (const [from, through] of splits) {
      const answer = await this.selectLogsOnce(tenant, { ...q, from, through }, stats);
      answers.push(answer);
      total += answer.reduce((n, s) => n + s.entries.length, 0);
      if (total >= q.limit) break;
    }
    return mergeSplitAnswers(answers, q.direction, q.limit, stats);
  }

  /**
   * One interval of a log query: its streams cut into shards by stream, each shard's nearest lines
   * merged by label set, and the query's `limit` applied once over the merged groups.
   */
  private async selectLogsOnce(tenant: string, q: LogQuery, stats: QueryStats): Promise<StreamResult[]> {
    const streams = await this.sourcesFor(tenant, q.selector.matchers, q.from, q.through);
    const base = { kind: 'logs', tenant, from: q.from, through: q.through, discoverLogLevels: this.options.discoverLogLevels } as const;
    const spec = { query: toWire(q.selector), direction: q.direction, limit: q.limit, categorize: q.categorize ?? false };
    // Log queries are cut by stream only: a time cut would read lines past the limit in every range.
    const tasks = byStream(streams, this.shardsPerQuery).map((group): LogsShard => ({ ...base, ...spec, streams: group }));
    const results = await this.runShards(tasks, stats);
    const kept = mergeLogGroups(results.flatMap((r) => resultOf(r, 'logs').groups), q.direction, q.limit);
    stats.totalEntriesReturned = kept.reduce((n, g) => n + g.entries.length, 0);
    return q.direction === 'forward' ? kept : kept.map((g) => ({ labels: g.labels, entries: g.entries.reverse() }));
  }

  /**
   * Folds a range aggregation's lines into its steps (see RangeFold), shard by shard: stream groups, each
   * cut into time ranges when there are fewer groups than shards wanted.
   */
  async fold(tenant: string, fold: RangeFold, stats: QueryStats): Promise<void> {
    const { from, through } = readRange(fold.readRange());
    const streams = await this.sourcesFor(tenant, fold.expr.selector.matchers, from, through);
    const base = {
      kind: 'fold', tenant, discoverLogLevels: this.options.discoverLogLevels, query: toWire(fold.expr),
      start: fold.start, end: fold.end, step: fold.step, grouping: fold.grouping,
    } as const;
    const tasks = byStreamAndTime(streams, this.shardsPerQuery, from, through).map((s): FoldShard => ({ ...base, ...s }));
    for (const result of await this.runShards(tasks, stats)) fold.merge(resultOf(result, 'fold').state);
  }

  /**
   * For the range functions that need every value of a window: the lines of every matching stream with
   * from < timestamp <= through that pass the selector's pipeline, grouped by their resulting labels, as
   * sorted timestamps, byte sizes and (with `unwrap`) values. A series left with an __error__ label fails
   * the query, as in Loki. With a `by` grouping, lines are grouped by those labels only.
   */
  async selectSamples(tenant: string, expr: RangeAggregationExpr, from: bigint, through: bigint, stats: QueryStats, grouping?: Grouping): Promise<StreamSamples[]> {
    const range = readRange({ from, through });
    const streams = await this.sourcesFor(tenant, expr.selector.matchers, range.from, range.through);
    const base = { kind: 'samples', tenant, discoverLogLevels: this.options.discoverLogLevels, query: toWire(expr), grouping } as const;
    const tasks = byStreamAndTime(streams, this.shardsPerQuery, range.from, range.through).map((s): SamplesShard => ({ ...base, ...s }));
    const byKey = new Map<string, StreamSamples[]>();
    for (const result of await this.runShards(tasks, stats)) {
      for (const s of resultOf(result, 'samples').series) {
        const key = printLabels(s.labels);
        const parts = byKey.get(key);
        if (parts) parts.push(s);
        else byKey.set(key, [s]);
      }
    }
    const withValues = expr.selector.unwrap !== undefined;
    return [...byKey.values()].map((parts) => (parts.length === 1 ? parts[0]! : sortSeries(concatSeries(parts), withValues)));
  }

  /**
   * Runs a query's shards at once and adds what they read to the stats. The first that fails stops the
   * others (and so does the query's own signal), and its error is the query's.
   */
  private async runShards(tasks: readonly ShardTask[], stats: QueryStats): Promise<ShardResult[]> {
    throwIfStopped(stats);
    const stop = new AbortController();
    // Every shard and chunk read of the query listens to it: more than Node's default of 10 is expected.
    setMaxListeners(0, stop.signal);
    const parent = stats.signal;
    const onParentAbort = () => stop.abort(parent!.reason);
    parent?.addEventListener('abort', onParentAbort, { once: true });
    try {
      const results = await Promise.all(tasks.map((t) => this.shards.run(t, { signal: stop.signal, deadlineMs: stats.deadlineMs }).catch((e: unknown) => {
        stop.abort(e);
        throw e;
      })));
      for (const r of results) {
        stats.totalLinesProcessed += r.processed.lines;
        stats.totalBytesProcessed += r.processed.bytes;
        stats.chunksDownloaded += r.processed.chunks;
        for (const key of r.processed.missingChunks) {
          const warning = `chunk ${key} is listed in the index but missing from the store; the answer leaves out its lines`;
          if (!stats.warnings.includes(warning)) stats.warnings.push(warning);
        }
      }
      return results;
    } finally {
      parent?.removeEventListener('abort', onParentAbort);
      if (!stop.signal.aborted) stop.abort(new LokiError('canceled', 'query_done', 'query finished'));
    }
  }

  /**
   * Streams with data in [from, through) matching the selector, in memory and in the index, joined by their
   * label set. The memory chunks are taken before the index is read: an index cut that finishes meanwhile
   * lists chunks and drops them from memory, and the query must find them in one place or the other (in
   * both, the merge drops the copies).
   */
  private async sourcesFor(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<ShardStream[]> {
    const split = splitTenants(tenant, matchers);
    if (!split) return this.tenantSources(tenant, matchers, from, through);
    const sources: ShardStream[] = [];
    for (const t of split.tenants) {
      for (const src of await this.tenantSources(t, split.matchers, from, through)) sources.push({ ...src, tenant: t, labels: withLabel(src.labels, TENANT_LABEL, t) });
    }
    return sources.sort((a, b) => compareStrings(printLabels(a.labels), printLabels(b.labels)));
  }

  /** One tenant's streams for sourcesFor. */
  private async tenantSources(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<ShardStream[]> {
    const sources = new Map<string, { labels: Labels; memory: MemoryChunkSnapshot[]; chunks: ChunkRef[] }>();
    for (const m of this.memory.streamsMatching(tenant, matchers)) {
      if (m.overlaps(from, through - 1n)) sources.set(m.labelsString, { labels: m.labels, memory: m.chunkSnapshots(from, through), chunks: [] });
    }
    for (const s of await this.store.selectSeries(tenant, matchers, from, through - 1n)) {
      const key = printLabels(s.labels);
      const src = sources.get(key);
      if (src) src.chunks.push(...s.chunks);
      else sources.set(key, { labels: s.labels, memory: [], chunks: [...s.chunks] });
    }
    // In label order: the answer to ties between streams must not depend on where a stream's data is.
    return [...sources.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, src]) => src);
  }

  /**
   * Loki's index/stats: streams, chunks, entries and line bytes of the matching data in [from, through],
   * from the index and the ingester's memory (a chunk is in one or the other), without opening a chunk.
   */
  async indexStats(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<IndexStats> {
    const streams = new Set<string>();
    const stats: IndexStats = { streams: 0, chunks: 0, bytes: 0, entries: 0 };
    for (const m of this.memory.streamsMatching(tenant, matchers)) {
      const s = m.chunkStats(from, through);
      if (s.chunks === 0) continue;
      streams.add(m.labelsString);
      stats.chunks += s.chunks;
      stats.entries += s.entries;
      stats.bytes += s.bytes;
    }
    for (const s of await this.store.selectSeries(tenant, matchers, from, through)) {
      streams.add(printLabels(s.labels));
      for (const c of s.chunks) {
        stats.chunks++;
        stats.entries += c.entries;
        stats.bytes += c.lineBytes;
      }
    }
    stats.streams = streams.size;
    return stats;
  }

  /**
   * Loki's index/volume: line bytes of the matching streams in [from, through] from the index and memory
   * (chunk-level, no chunk opened), summed per group. `series` groups by the labels of `target` (streams
   * without all of them are left out) or, when none are given, those the selector names; `labels` gives
   * each label name its streams' total.
   */
  async volume(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint, target: readonly string[], aggregateBy: 'series' | 'labels'): Promise<Array<{ labels: Labels; bytes: number }>> {
    const perStream = new Map<string, { labels: Labels; bytes: number }>();
    const add = (labels: Labels, bytes: number) => addBytes(perStream, labels, bytes);
    for (const m of this.memory.streamsMatching(tenant, matchers)) {
      const s = m.chunkStats(from, through);
      if (s.chunks > 0) add(m.labels, s.bytes);
    }
    for (const s of await this.store.selectSeries(tenant, matchers, from, through)) add(s.labels, s.chunks.reduce((n, c) => n + c.lineBytes, 0));
    const groups = new Map<string, { labels: Labels; bytes: number }>();
    const addTo = (labels: Labels, bytes: number) => addBytes(groups, labels, bytes);
    const names = new Set(target.length > 0 ? target : matchers.map((m) => m.name));
    for (const { labels, bytes } of perStream.values()) {
      // Every target label is required: a stream without one of them is left out, as in Loki.
      if (target.length > 0 && aggregateBy === 'series' && !target.every((t) => labels.some((l) => l.name === t))) continue;
      if (aggregateBy === 'labels') {
        for (const l of labels) if (target.length === 0 || names.has(l.name)) addTo([{ name: l.name, value: '' }], bytes);
      } else {
        addTo(labels.filter((l) => names.has(l.name)), bytes);
      }
    }
    return [...groups.values()].sort((a, b) => b.bytes - a.bytes || (printLabels(a.labels) < printLabels(b.labels) ? -1 : 1));
  }

  /** Label names of streams with data in [from, through]. */
  async labelNames(tenant: string, from: bigint, through: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]> {
    const names = new Set<string>();
    for (const labels of await this.seriesLabels(tenant, matchers, from, through)) for (const l of labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(tenant: string, name: string, from: bigint, through: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]> {
    const values = new Set<string>();
    for (const labels of await this.seriesLabels(tenant, matchers, from, through)) {
      for (const l of labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort();
  }

  /** Distinct label sets of the streams matching any of the selectors (all streams when none given). */
  async series(tenant: string, selectors: ReadonlyArray<readonly LabelMatcher[]>, from: bigint, through: bigint): Promise<Labels[]> {
    const out = new Map<string, Labels>();
    for (const matchers of selectors.length > 0 ? selectors : [undefined]) {
      for (const labels of await this.seriesLabels(tenant, matchers, from, through)) out.set(printLabels(labels), labels);
    }
    return [...out.values()];
  }

  private async seriesLabels(tenant: string, matchers: readonly LabelMatcher[] | undefined, from: bigint, through: bigint): Promise<Labels[]> {
    const split = splitTenants(tenant, matchers ?? []);
    if (!split) return this.tenantSeriesLabels(tenant, matchers, from, through);
    const out: Labels[] = [];
    for (const t of split.tenants) {
      for (const labels of await this.tenantSeriesLabels(t, split.matchers, from, through)) out.push(withLabel(labels, TENANT_LABEL, t));
    }
    return out;
  }

  private async tenantSeriesLabels(tenant: string, matchers: readonly LabelMatcher[] | undefined, from: bigint, through: bigint): Promise<Labels[]> {
    const out = new Map<string, Labels>();
    for (const m of this.memory.streamsMatching(tenant, matchers ?? [])) if (m.overlaps(from, through)) out.set(m.labelsString, m.labels);
    for (const s of await this.store.selectSeries(tenant, matchers ?? [], from, through)) {
      const key = printLabels(s.labels);
      if (!out.has(key)) out.set(key, s.labels);
    }
    return [...out.values()];
  }
}

/** A shard's result of the kind its task asked for. */
function resultOf<K extends ShardResult['kind']>(result: ShardResult, kind: K): Extract<ShardResult, { kind: K }> {
  if (result.kind !== kind) throw new LokiError('internal', 'shard_result', `a ${kind} shard answered with ${result.kind}`);
  return result as Extract<ShardResult, { kind: K }>;
}

/** A range aggregation's lines (from < timestamp <= through) as the read range [from + 1, through + 1). */
function readRange(r: { from: bigint; through: bigint }): { from: bigint; through: bigint } {
  return { from: r.from + 1n, through: r.through + 1n };
}

/** The samples of one series from several shards, as one unsorted list. */
function concatSeries(parts: readonly StreamSamples[]): StreamSamples {
  return {
    labels: parts[0]!.labels,
    timestamps: parts.flatMap((p) => p.timestamps),
    bytes: parts.flatMap((p) => p.bytes),
    values: parts[0]!.values ? parts.flatMap((p) => p.values!) : undefined,
  };
}

/** Shards on this thread: a query's shards run at once, taking turns at their chunk reads. */
export class InProcessShards implements ShardRunner {
  constructor(private readonly store: LogStore) {}

  run(task: ShardTask, stop: { readonly signal: AbortSignal; readonly deadlineMs: number | undefined }): Promise<ShardResult> {
    const stats = newQueryStats(undefined, stop.signal);
    if (stop.deadlineMs !== undefined) stats.deadlineMs = stop.deadlineMs;
    return runShard(task, {
      // A read for a query that stops is given up at once, so a slow store cannot hold the query.
      getChunk: (tenant, ref) => startUnlessAborted(stop.signal, () => this.store.getChunk(tenant, ref)),
      checkStopped: () => throwIfStopped(stats),
    });
  }

  async close(): Promise<void> {}
}

/** Adds `bytes` to the total of a label set, keyed by its printed form. */
function addBytes(totals: Map<string, { labels: Labels; bytes: number }>, labels: Labels, bytes: number): void {
  const key = printLabels(labels);
  const t = totals.get(key);
  if (t) t.bytes += bytes;
  else totals.set(key, { labels, bytes });
}

/** The label Loki gives every stream of a multi-tenant query: the tenant it belongs to. */
export const TENANT_LABEL = '__tenant_id__';

/**
 * Loki's multi-tenant read (`a|b`): the tenants whose ID the selector's __tenant_id__ matchers accept, and
 * the other matchers to read each with; undefined for one tenant. Each tenant's streams then carry
 * __tenant_id__.
 */
function splitTenants(tenant: string, matchers: readonly LabelMatcher[]): { tenants: string[]; matchers: LabelMatcher[] } | undefined {
  const tenants = tenant.split('|');
  if (tenants.length === 1) return undefined;
  const byTenant = matchers.filter((m) => m.name === TENANT_LABEL);
  return { tenants: tenants.filter((t) => byTenant.every((m) => m.matches(t))), matchers: matchers.filter((m) => m.name !== TENANT_LABEL) };
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `labels` with name=value added in its sorted place. */
function withLabel(labels: Labels, name: string, value: string): Labels {
  return [...labels, { name, value }].sort((a, b) => compareStrings(a.name, b.name));
}
