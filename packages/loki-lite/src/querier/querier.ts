import { type LabelMatcher, printLabels } from '@loki-lite/shared';
import type { Direction } from '../iter/direction.js';
import type { StreamSamples } from '../logql/engine/evaluate.js';
import type { RangeFold } from '../logql/engine/fold.js';
import type { Grouping, LogSelectorExpr, RangeAggregationExpr } from '../logql/syntax/ast.js';
import { toWire } from '../logql/syntax/wire.js';
import type { LogStore } from '../storage/log-store.js';
import { type DeleteFilterSource, withDeletes, withoutCoveredChunks } from '../shard/deletes.js';
import type { IngesterReader } from './ingester-reader.js';
import { type FoldShard, type LogsShard, mergeLogGroups, type SamplesShard, sortSeries } from '../shard/shard.js';
import { byStream, byStreamAndTime } from '../shard/plan.js';
import { InProcessShards, resultOf, runShards, type ShardRunner } from '../shard/runner.js';
import type { ShardStream } from '../shard/shard.js';
import { streamSources } from './sources.js';
import type { QueryStats, StreamResult } from '../shard/types.js';

/*
 * The querier's selections (Loki's pkg/querier/querier.go SelectLogs and SelectSamples): the lines of the
 * matching streams, read from the ingester's memory and the object store, cut into shards (shard-plan.ts)
 * and run where the ShardRunner puts them. Label, series, stats and volume queries are metadata.ts's.
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
 * Answers log and sample selections by merging the ingester's memory with the object store. An entry
 * present in both (flushed but still held in memory) is returned once.
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

  /** The streams a selection reads ([from, through)), each with the delete requests that hide some of its lines. */
  private async sources(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<ShardStream[]> {
    const streams = await streamSources(this.memory, this.store, tenant, matchers, from, through);
    const withRequests = await withDeletes(this.options.deletes, streams, (s) => s.tenant ?? tenant, from, through - 1n);
    return withRequests.map(withoutCoveredChunks).filter((s) => s.memory.length > 0 || s.chunks.length > 0);
  }

  /** Stops the shard runner (the worker threads). */
  close(): Promise<void> {
    return this.shards.close();
  }

  /**
   * A log query over its one time range (splitting by interval is the query frontend's: split.ts): its
   * streams cut into shards by stream, each shard's nearest lines merged by label set, and the query's
   * `limit` applied once over the merged groups.
   */
  async selectLogs(tenant: string, q: LogQuery, stats: QueryStats): Promise<StreamResult[]> {
    const streams = await this.sources(tenant, q.selector.matchers, q.from, q.through);
    const base = { kind: 'logs', tenant, from: q.from, through: q.through, discoverLogLevels: this.options.discoverLogLevels(tenant) } as const;
    const spec = { query: toWire(q.selector), direction: q.direction, limit: q.limit, categorize: q.categorize ?? false };
    // Log queries are cut by stream only: a time cut would read lines past the limit in every range.
    const tasks = byStream(streams, this.shardsPerQuery).map((group): LogsShard => ({ ...base, ...spec, streams: group }));
    const results = await runShards(this.shards, tasks, stats);
    const kept = mergeLogGroups(
      results.flatMap((r) => resultOf(r, 'logs').groups),
      q.direction,
      q.limit,
    );
    stats.totalEntriesReturned = kept.reduce((n, g) => n + g.entries.length, 0);
    return q.direction === 'forward' ? kept : kept.map((g) => ({ labels: g.labels, entries: g.entries.reverse() }));
  }

  /**
   * Folds a range aggregation's lines into its steps (see RangeFold), shard by shard: stream groups, each
   * cut into time ranges when there are fewer groups than shards wanted.
   */
  async fold(tenant: string, fold: RangeFold, stats: QueryStats): Promise<void> {
    const { from, through } = readRange(fold.readRange());
    const streams = await this.sources(tenant, fold.expr.selector.matchers, from, through);
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
    const streams = await this.sources(tenant, expr.selector.matchers, range.from, range.through);
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
