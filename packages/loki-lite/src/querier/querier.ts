import { type LabelMatcher, printLabels } from '@loki-lite/shared';
import type { Direction } from '../iter/direction.js';
import type { StreamSamples } from '../logql/engine/evaluate.js';
import { readGrouping, type RangeFold } from '../logql/engine/fold.js';
import type { Grouping, LogSelectorExpr, RangeAggregationExpr } from '../logql/syntax/ast.js';
import { toWire } from '../logql/syntax/wire.js';
import { type DeleteFilterSource, deleteFilterData, withDeletes, withoutCoveredChunks } from '../shard/deletes.js';
import { byStream, byStreamAndTime, hasData } from '../shard/plan.js';
import { addProcessed, InProcessShards, resultOf, runShards, type ShardRunner } from '../shard/runner.js';
import type { StreamSampleList } from '../shard/sample-lists.js';
import type { CallContext, MemorySelectionScope } from '../shard/selection.js';
import { type FoldShard, type LogsShard, mergeLogGroups, type SamplesShard, type ShardProcessed, type ShardStream, sortSeries } from '../shard/shard.js';
import type { QueryStats, StreamResult } from '../shard/types.js';
import type { LogStore } from '../storage/log-store.js';
import { type IngesterReader, matcherData } from './ingester-reader.js';
import { TENANT_LABEL, tenantsOf } from './multi-tenant.js';
import { storeSources, withIngesterSamples } from './sources.js';

/*
 * The querier's selections (Loki's pkg/querier/querier.go SelectLogs and SelectSamples): the ingester runs
 * the query over its memory and answers lines or samples, and the lines of the matching streams in the
 * object store are read here, cut into shards (shard/plan.ts) and run where the ShardRunner puts them. The
 * two answers are merged without the lines found in both (a chunk flushed while the query ran, or kept
 * for chunk_retain_period): log lines by timestamp and line, samples by timestamp and line hash before
 * they are aggregated, as Loki's querier merges its ingesters' answers. Label, series, stats and volume
 * queries are metadata.ts's.
 */

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
}

export interface QuerierOptions {
  /**
   * Loki's discover_log_levels, asked per query for its tenant (a per-tenant limit): every line read gets
   * detected_level (see level-detection.ts).
   */
  readonly discoverLogLevels: (tenant: string) => boolean;
  /** Where shards run; by default on this thread. */
  readonly shards?: ShardRunner;
  /** How many shards a query is cut into (stream groups, then time ranges); by default 1. */
  readonly shardsPerQuery?: number;
  /** The tenants' delete requests, whose lines queries hide; none when not given. */
  readonly deletes?: DeleteFilterSource;
}

/**
 * Answers log and sample selections by merging the ingester's answer with the object store's lines. An
 * entry present in both (flushed but still held in memory) is counted once.
 */
export class Querier {
  private readonly shards: ShardRunner;
  private readonly shardsPerQuery: number;

  constructor(
    private readonly memory: IngesterReader,
    private readonly store: LogStore,
    private readonly options: QuerierOptions = { discoverLogLevels: () => false },
  ) {
    this.shards = options.shards ?? new InProcessShards(store);
    this.shardsPerQuery = Math.max(1, options.shardsPerQuery ?? 1);
  }

  /**
   * A log query over its one time range (splitting by interval is the query frontend's: split.ts): the
   * ingester's nearest lines, and the store's streams cut into shards by stream, merged by label set with
   * the query's `limit` applied once over the merged groups.
   */
  async selectLogs(tenant: string, q: LogQuery, stats: QueryStats): Promise<StreamResult[]> {
    const spec = { query: toWire(q.selector), direction: q.direction, limit: q.limit, categorize: q.categorize ?? false };
    const memory = await this.askIngester(tenant, q.selector.matchers, q.from, q.through, stats, (scope, ctx) =>
      this.memory.selectLogs({ ...scope, ...spec }, ctx),
    );
    const streams = await this.storeStreams(tenant, q.selector.matchers, q.from, q.through);
    const base = { kind: 'logs', tenant, from: q.from, through: q.through, discoverLogLevels: this.options.discoverLogLevels(tenant), ...spec } as const;
    // Log queries are cut by stream only: a time cut would read lines past the limit in every range.
    const tasks = byStream(streams, this.shardsPerQuery).map((group): LogsShard => ({ ...base, streams: group }));
    const [fromMemory, results] = await Promise.all([memory.answers, runShards(this.shards, tasks, stats)]);
    const kept = mergeLogGroups([...fromMemory.flatMap((m) => m.groups), ...results.flatMap((r) => resultOf(r, 'logs').groups)], q.direction, q.limit);
    stats.totalEntriesReturned = kept.reduce((n, g) => n + g.entries.length, 0);
    return q.direction === 'forward' ? kept : kept.map((g) => ({ labels: g.labels, entries: g.entries.reverse() }));
  }

  /**
   * Folds a range aggregation's lines into its steps (see RangeFold), shard by shard: stream groups, each
   * cut into time ranges when there are fewer groups than shards wanted. The ingester's samples of a
   * stream are folded in the same shard as its stored lines.
   */
  async fold(tenant: string, fold: RangeFold, stats: QueryStats): Promise<void> {
    const { from, through } = readRange(fold.readRange());
    const streams = await this.samplesSources(tenant, fold.expr, from, through, readGrouping(fold.grouping), stats);
    const base = {
      kind: 'fold',
      tenant,
      discoverLogLevels: this.options.discoverLogLevels(tenant),
      query: toWire(fold.expr),
      start: fold.start,
      end: fold.end,
      step: fold.step,
      grouping: fold.grouping,
    } as const;
    const tasks = byStreamAndTime(streams, this.shardsPerQuery, from, through).map((s): FoldShard => ({ ...base, ...s }));
    for (const result of await runShards(this.shards, tasks, stats)) fold.merge(resultOf(result, 'fold').state);
  }

  /**
   * For the range functions that need every value of a window: the lines of every matching stream with
   * from < timestamp <= through that pass the selector's pipeline, grouped by their resulting labels, as
   * sorted timestamps, byte sizes and (with `unwrap`) values. A series left with an __error__ label fails
   * the query, as in Loki. With a `by` grouping, lines are grouped by those labels only.
   */
  async selectSamples(
    tenant: string,
    expr: RangeAggregationExpr,
    from: bigint,
    through: bigint,
    stats: QueryStats,
    grouping?: Grouping,
  ): Promise<StreamSamples[]> {
    const range = readRange({ from, through });
    const streams = await this.samplesSources(tenant, expr, range.from, range.through, grouping, stats);
    const base = { kind: 'samples', tenant, discoverLogLevels: this.options.discoverLogLevels(tenant), query: toWire(expr), grouping } as const;
    const tasks = byStreamAndTime(streams, this.shardsPerQuery, range.from, range.through).map((s): SamplesShard => ({ ...base, ...s }));
    const byKey = new Map<string, StreamSamples[]>();
    for (const result of await runShards(this.shards, tasks, stats)) {
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
   * A range aggregation's streams: the ingester's samples of each (its lines through the pipeline and
   * `grouping`, as the store's lines will be) joined to the store's streams.
   */
  private async samplesSources(
    tenant: string,
    expr: RangeAggregationExpr,
    from: bigint,
    through: bigint,
    grouping: Grouping | undefined,
    stats: QueryStats,
  ): Promise<ShardStream[]> {
    const query = toWire(expr);
    const { matchers } = expr.selector;
    const memory = await this.askIngester(tenant, matchers, from, through, stats, (scope, ctx) =>
      this.memory.selectSamples({ ...scope, query, grouping }, ctx),
    );
    const streams = await this.storeStreams(tenant, matchers, from, through);
    const lists: StreamSampleList[] = (await memory.answers).flatMap((m) => m.streams);
    return withIngesterSamples(streams, lists);
  }

  /** The store's streams a selection reads ([from, through)), each with the delete requests that hide some of its lines. */
  private async storeStreams(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<ShardStream[]> {
    const streams = await storeSources(this.store, tenant, matchers, from, through);
    const withRequests = await withDeletes(this.options.deletes, streams, (s) => s.tenant ?? tenant, from, through - 1n);
    return withRequests.map(withoutCoveredChunks).filter(hasData);
  }

  /**
   * Asks the ingester for its part of a selection, once per tenant read (for `a|b`, its streams labelled
   * with __tenant_id__), with the tenant's delete requests. The calls are made when this resolves, and so
   * their snapshots taken, before the caller reads the index (see IngesterReader.selectLogs); their
   * answers come in `answers`, with what they read added to the stats.
   */
  private async askIngester<T extends { processed: ShardProcessed }>(
    tenant: string,
    matchers: readonly LabelMatcher[],
    from: bigint,
    through: bigint,
    stats: QueryStats,
    call: (scope: MemorySelectionScope, ctx: CallContext) => Promise<T>,
  ): Promise<{ answers: Promise<T[]> }> {
    const { reads, multiTenant } = tenantsOf(tenant, matchers);
    const deletes = await Promise.all(reads.map((r) => this.options.deletes?.filtersFor(r.tenant, from, through - 1n) ?? []));
    const ctx: CallContext = { ...(stats.signal && { signal: stats.signal }), ...(stats.deadlineMs !== undefined && { deadlineMs: stats.deadlineMs }) };
    const calls = reads.map((r, i) =>
      call(
        {
          tenant: r.tenant,
          matchers: matcherData(r.matchers),
          from,
          through,
          deletes: deleteFilterData(deletes[i]!),
          discoverLogLevels: this.options.discoverLogLevels(r.tenant),
          ...(multiTenant && { streamLabel: { name: TENANT_LABEL, value: r.tenant } }),
        },
        ctx,
      ),
    );
    const answers = Promise.all(calls).then((all) => {
      for (const a of all) addProcessed(stats, a.processed);
      return all;
    });
    answers.catch(() => {}); // awaited by the caller once the index is read
    return { answers };
  }
}

/**
 * The lines a range aggregation reads, as Loki reads them: each step's window is (t - range, t], but the
 * selection for the whole query ends at its last step *exclusive* (Loki's evaluator asks its querier for
 * [start - range, end), and ingesters and store read up to their end exclusive), so a line stamped exactly
 * at the query's end counts in no window, while one at an earlier step's time counts in that step.
 */
function readRange(r: { from: bigint; through: bigint }): { from: bigint; through: bigint } {
  return { from: r.from + 1n, through: r.through };
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
