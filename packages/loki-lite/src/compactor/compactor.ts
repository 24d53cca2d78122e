import type { Logger } from '@loki-lite/shared';
import type { CompactorConfig } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import type { IndexTable, LogStore } from '../storage/log-store.js';
import { Expiration, type RetentionLimits } from './retention/expiration.js';
import { MarkerFiles } from './retention/markers.js';
import { Sweeper, forEachLimited } from './retention/sweeper.js';
import { compactTable, type TableDeletes, type TableOutcome } from './table.js';
import { intervalTicker, type Ticker } from '../util/ticker.js';

type JobKind = 'compaction' | 'retention' | 'sweep';

/** Loki's sweeper looks for marker files every minute. */
const SWEEP_INTERVAL_MS = 60_000;

export interface CompactorOptions {
  readonly config: CompactorConfig;
  readonly store: LogStore;
  readonly limits: RetentionLimits;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The clock, ms since the epoch (tests inject one to age data by days). */
  readonly now?: () => number;
  readonly ticker?: Ticker;
  /** The delete API's part, when it runs (see TableDeletes). */
  readonly deletes?: TableDeletes;
}

/** What one run did, as its log line says. */
export interface RunSummary {
  readonly tables: number;
  readonly compacted: number;
  readonly mergedFiles: number;
  readonly markedChunks: number;
  readonly deletedTables: number;
  readonly failedTables: number;
  /** Table groups a stop() left for the next start. */
  readonly abandonedTables: number;
  /** Settles when the files the run replaced are deleted. */
  readonly oldFilesDeleted: Promise<void>;
}

/**
 * Loki's compactor, for one process that is the cluster's only compactor (no ring): every
 * compaction_interval, and once at start, each tenant's index table is merged into one file; with
 * retention_enabled, every apply_retention_interval a run also removes expired chunks from the index and
 * marks them, and the sweeper deletes marked chunks after retention_delete_delay. Runs never overlap. Stopping
 * waits for the table in progress and abandons the rest of the run, which the next start does again: every
 * step of a table is safe to repeat (table.ts).
 */
export class Compactor {
  private readonly now: () => number;
  private readonly markers: MarkerFiles;
  private readonly sweeper: Sweeper;
  private stopTimers: Array<() => void> = [];
  private stopping = false;
  /** The run or sweep under way; the next waits for it. */
  private current: Promise<unknown> = Promise.resolve();
  /**
   * A job of each kind waiting for its turn. A tick whose kind already waits joins it instead of queueing
   * another, as Go's ticker drops the ticks its receiver misses: an hour-long retention run leaves one
   * sweep to do after it, not sixty.
   */
  private readonly waiting = new Map<JobKind, Promise<unknown>>();

  constructor(private readonly opts: CompactorOptions) {
    this.now = opts.now ?? Date.now;
    this.markers = new MarkerFiles(opts.config.working_directory);
    this.sweeper = new Sweeper({
      markers: this.markers,
      store: opts.store,
      deleteDelay: opts.config.retention_delete_delay,
      workers: Math.max(1, opts.config.retention_delete_worker_count),
      now: () => BigInt(this.now()) * 1_000_000n,
      metrics: opts.metrics,
      log: opts.log,
    });
  }

  /** Starts the schedules; the first compaction (and retention run and sweep) start at once, in the background. */
  start(): void {
    const { config, metrics } = this.opts;
    const ticker = this.opts.ticker ?? intervalTicker;
    metrics.compactorRunning.set(1);
    const every = (interval: bigint, job: () => Promise<unknown>) => {
      const run = () => void job().catch(() => {});
      run();
      // an interval of 0 runs once, at start
      if (interval > 0n) this.stopTimers.push(ticker(Number(interval / 1_000_000n), run));
    };
    every(config.compaction_interval, () => this.runCompaction(false));
    if (config.retention_enabled) {
      every(config.apply_retention_interval, () => this.runCompaction(true));
      every(BigInt(SWEEP_INTERVAL_MS) * 1_000_000n, () => this.sweep());
    }
    this.opts.log.info('compactor started');
  }

  /** Stops the schedules and waits for the table in progress; the rest of a run is left to the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const stop of this.stopTimers) stop();
    this.stopTimers = [];
    await this.current.catch(() => {});
    this.opts.metrics.compactorRunning.set(0);
    this.opts.log.info('compactor exiting');
  }

  /** One compaction run over every table (with retention when asked and enabled), after the one under way. */
  runCompaction(applyRetention: boolean): Promise<RunSummary> {
    const retention = applyRetention && this.opts.config.retention_enabled;
    return this.serialized(retention ? 'retention' : 'compaction', () => this.timed(retention, () => this.compactAll(retention)));
  }

  /** One sweep of the marker files, after the run under way. */
  sweep(): Promise<{ deleted: number; kept: number }> {
    return this.serialized('sweep', () => this.sweeper.sweep());
  }

  private serialized<T>(kind: JobKind, job: () => Promise<T>): Promise<T> {
    const waiting = this.waiting.get(kind);
    if (waiting) return waiting as Promise<T>;
    const next = this.current
      .catch(() => {})
      .then(() => {
        this.waiting.delete(kind);
        return this.stopping ? Promise.reject(new Error('compactor stopped')) : job();
      });
    this.waiting.set(kind, next);
    this.current = next;
    return next;
  }

  /** Loki's run metrics: status, duration, last success, per kind of run. */
  private async timed(retention: boolean, run: () => Promise<RunSummary>): Promise<RunSummary> {
    const m = this.opts.metrics;
    const [operations, duration, lastSuccess] = retention
      ? [m.applyRetentionOperations, m.applyRetentionDuration, m.applyRetentionLastSuccess]
      : [m.compactTablesOperations, m.compactTablesDuration, m.compactTablesLastSuccess];
    const started = performance.now();
    try {
      const summary = await run();
      if (summary.failedTables > 0) throw new Error(`${summary.failedTables} tables failed`);
      // a run cut short by stop() is neither a success nor a failure: the next start does it again
      if (summary.abandonedTables > 0) return summary;
      operations.inc({ status: 'success' });
      duration.set((performance.now() - started) / 1000);
      lastSuccess.set(this.now() / 1000);
      return summary;
    } catch (e) {
      operations.inc({ status: 'failure' });
      this.opts.log.fields('error', [
        ['msg', retention ? 'failed to apply retention' : 'failed to run compaction'],
        ['err', (e as Error).message],
      ]);
      throw e;
    }
  }

  private async compactAll(retention: boolean): Promise<RunSummary> {
    const { store, log, config } = this.opts;
    const nowNs = BigInt(this.now()) * 1_000_000n;
    const deps = {
      store,
      deletes: retention ? this.opts.deletes : undefined,
      retention: retention
        ? { expiration: new Expiration(this.opts.limits, nowNs), markers: this.markers, now: () => BigInt(this.now()) * 1_000_000n }
        : undefined,
    };
    const byName = groupByName(await store.listAllTables(), config);
    const outcomes: TableOutcome[] = [];
    let failedTables = 0;
    let skippedTables = 0;
    await deps.deletes?.runStarted?.();
    await forEachLimited(byName, config.max_compaction_parallelism, async (tables) => {
      if (this.stopping) {
        skippedTables++;
        return;
      }
      log.fields('info', [
        ['msg', 'compacting table'],
        ['table-name', tables[0]!.name],
      ]);
      for (const table of tables) {
        const started = performance.now();
        try {
          const outcome = await compactTable(table, deps);
          outcomes.push(outcome);
          this.record(table, outcome, retention, started);
        } catch (e) {
          failedTables++;
          if (retention) this.opts.metrics.retentionTableDuration.observe({ table: table.name, status: 'failure' }, (performance.now() - started) / 1000);
          log.fields('error', [
            ['msg', 'failed to compact files'],
            ['table', table.name],
            ['tenant', table.tenant],
            ['err', (e as Error).message],
          ]);
        }
      }
      log.fields('info', [
        ['msg', 'finished compacting table'],
        ['table-name', tables[0]!.name],
      ]);
    });
    // Delete requests are processed only when every table has them applied; else the next run does them again.
    await deps.deletes?.runFinished?.(failedTables === 0 && skippedTables === 0);
    const summary = summarize(byName.length, outcomes, failedTables, skippedTables);
    // a run that found nothing to do says so at debug level only, so an idle compactor's log stays quiet
    log.fields(summary.compacted > 0 || failedTables > 0 ? 'info' : 'debug', [
      ['msg', retention ? 'retention run finished' : 'compaction run finished'],
      ['tables', summary.tables],
      ['compacted', summary.compacted],
      ['merged_files', summary.mergedFiles],
      ['marked_chunks', summary.markedChunks],
      ['deleted_tables', summary.deletedTables],
      ['failed_tables', failedTables],
    ]);
    return summary;
  }

  private record(table: IndexTable, outcome: TableOutcome, retention: boolean, started: number): void {
    if (!retention) return;
    const m = this.opts.metrics;
    m.retentionTableDuration.observe({ table: table.name, status: 'success' }, (performance.now() - started) / 1000);
    if (outcome.action === 'skipped') return;
    m.retentionTablesProcessed.inc({ table: table.name, user_id: table.tenant, action: outcome.action });
    if (outcome.marked > 0) m.retentionMarksCreated.inc({ table: table.name }, outcome.marked);
  }
}

/**
 * Tables grouped by name, newest first (Loki's order), less the skip_latest_n_tables newest, and only the
 * tables_to_compact newest of the rest when set.
 */
function groupByName(tables: readonly IndexTable[], config: CompactorConfig): IndexTable[][] {
  const groups = new Map<string, IndexTable[]>();
  for (const t of tables) {
    let g = groups.get(t.name);
    if (!g) groups.set(t.name, (g = []));
    g.push(t);
  }
  const newestFirst = [...groups.values()].sort((a, b) => b[0]!.period - a[0]!.period);
  const rest = newestFirst.slice(config.skip_latest_n_tables);
  return config.tables_to_compact > 0 ? rest.slice(0, config.tables_to_compact) : rest;
}

function summarize(tables: number, outcomes: readonly TableOutcome[], failedTables: number, abandonedTables: number): RunSummary {
  const acted = outcomes.filter((o) => o.action !== 'skipped');
  const oldFilesDeleted = Promise.all(acted.map((o) => o.oldFilesDeleted)).then(() => {});
  // A failed run's summary is dropped; a failed delete of replaced files is harmless (LogStore.replaceIndexFiles).
  oldFilesDeleted.catch(() => {});
  return {
    tables,
    compacted: acted.length,
    mergedFiles: acted.reduce((n, o) => n + o.mergedFiles, 0),
    markedChunks: acted.reduce((n, o) => n + o.marked, 0),
    deletedTables: acted.filter((o) => o.action === 'deleted').length,
    failedTables,
    abandonedTables,
    oldFilesDeleted,
  };
}
