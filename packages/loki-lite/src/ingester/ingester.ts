import { type LabelMatcher, type LabelMatcherData, type Logger, LokiError, NANOS_PER_MS, nanosPartOf, secondsOf, silentLogger } from '@loki-lite/shared';
import type { MemoryStreamStats } from '../chunk/snapshot.js';
import { HeadMemory } from '../chunk/mem-chunk.js';
import type { IngesterConfig, LimitsConfig } from '../config/schema.js';
import type { Limits } from '../limits/limits.js';
import type { Metrics } from '../metrics.js';
import { InProcessShards } from '../shard/runner.js';
import type { CallContext, MemoryLogs, MemoryLogsSelection, MemorySamples, MemorySamplesSelection, ShardExecution } from '../shard/selection.js';
import type { LogStore } from '../storage/log-store.js';
import { ChunkFlusher } from './flush.js';
import { keepHeadsUnderLimit } from './head-limit.js';
import { compileMatchers, selectLogsIn, selectSamplesIn, streamStatsOf } from './memory-reads.js';
import { IndexCutter } from './index-cut.js';
import { IngesterWal, type IngesterWalDeps } from './ingester-wal.js';
import { type InstanceDeps, maxStreamsPerTenant, TenantInstance } from './instance.js';
import type { IngestStream, WholePushBody } from './push-request.js';
import { replayRecord } from './recovery.js';
import { PushOutcome, type Stream } from './stream.js';
import type { WalRecord } from './wal/record.js';

export interface IngesterDeps {
  readonly config: IngesterConfig;
  /** Asked once per tenant, when its first stream arrives (per-stream rate limit, active-stream limit). */
  readonly limits: Limits;
  readonly store: LogStore;
  readonly metrics: Metrics;
  /** operational_config.log_duplicate_metrics: count the bytes of entries dropped as duplicates. */
  readonly logDuplicateMetrics?: boolean;
  readonly log?: Logger;
  readonly nowMs?: () => number;
  /** Tests only: how WAL files are opened and free disk space is read (a disk that fills up). */
  readonly walFiles?: IngesterWalDeps['walFiles'];
  /** Where the queries run over memory run their shards; by default on this thread, one shard per query. */
  readonly queryShards?: ShardExecution;
}

const SETTLED = Promise.resolve();
const msOf = (ns: bigint) => Number(ns / NANOS_PER_MS);

/**
 * The ingester service (Loki's pkg/ingester/ingester.go): holds every tenant's recent streams in memory
 * (TenantInstance), makes pushes durable in the WAL before they are acknowledged (IngesterWal), and moves
 * data to the object store: full, idle or old chunks are flushed, retried until they succeed (ChunkFlusher),
 * and the refs of flushed chunks are written as index files every index_cut_period (IndexCutter). A chunk
 * leaves memory only once an index file lists it (and chunk_retain_period after), so queries always see it. This class owns the lifecycle
 * (start, stop, the timers) and wires the parts.
 */
export class Ingester {
  private readonly instances = new Map<string, TenantInstance>();
  /** What the instances of tenants with the same limits share (one object for all but overridden tenants). */
  private readonly instanceDeps = new WeakMap<LimitsConfig, InstanceDeps>();
  private readonly headMemory: HeadMemory;
  /** One push's outcome, reused by every instance: a push is stored synchronously, one at a time. */
  private readonly outcome = new PushOutcome();
  private readonly flusher: ChunkFlusher;
  private readonly indexCutter: IndexCutter;
  private wal: IngesterWal | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly queryShards: ShardExecution;
  private stopped = false;
  /** Index cuts and checkpoints, run one at a time (see serialized). */
  private maintenance: Promise<void> = SETTLED;

  constructor(private readonly deps: IngesterDeps) {
    const { config, metrics } = deps;
    this.log = deps.log ?? silentLogger;
    this.now = deps.nowMs ?? Date.now;
    this.queryShards = deps.queryShards ?? { runner: new InProcessShards(deps.store), shardsPerQuery: 1 };
    this.headMemory = new HeadMemory(config.head_memory_limit);
    this.indexCutter = new IndexCutter({ store: deps.store, metrics, log: this.log, now: this.now, retainMs: msOf(config.chunk_retain_period) });
    this.flusher = new ChunkFlusher({
      config,
      store: deps.store,
      metrics,
      log: this.log,
      now: this.now,
      onFlushed: (item) => this.indexCutter.chunkFlushed(item),
    });
    metrics.chunksInMemory = () => this.chunksInMemory();
    metrics.flushQueueLength = () => this.flusher.length;
  }

  /** Replays the WAL, then starts the flush, index and checkpoint timers. */
  async start(): Promise<void> {
    const { config, metrics } = this.deps;
    if (config.wal.enabled) {
      const replayStarted = process.hrtime.bigint();
      this.wal = await IngesterWal.open(
        {
          config,
          metrics,
          log: this.log,
          walFiles: this.deps.walFiles,
          streamOf: (tenant, labelsString) => this.instances.get(tenant)?.streams.get(labelsString),
          onDiskNearlyFull: () => void this.serialized(() => this.checkpoint()).catch((e: Error) => this.log.error(`ingester: ${e.message}`)),
        },
        (rec) => this.applyReplayed(rec),
      );
      metrics.walReplayDuration.set(Number(process.hrtime.bigint() - replayStarted) / 1e9);
      // Every stream in memory now came back from the WAL.
      for (const instance of this.instances.values()) metrics.walRecoveredStreams.inc(instance.streams.size);
    }
    this.every(config.flush_check_period, () => this.sweep());
    this.every(config.index_cut_period, () => this.serialized(() => this.indexCutter.cut()));
    if (this.wal) this.every(config.wal.checkpoint_duration, () => this.serialized(() => this.checkpoint()));
  }

  /**
   * Stores the streams, writes what was stored to the WAL and resolves once it is on disk. Rejected entries
   * (rate limit, out of order) are reported after the rest is durable, with Loki's error for the last
   * stream that had any.
   *
   * Not an async function on purpose: everything is copied synchronously, and the promise returned holds
   * no reference to the request, so the request's objects die young instead of being kept (and promoted
   * to the old generation) for the length of an fsync.
   */
  push(tenant: string, streams: readonly IngestStream[], whole?: WholePushBody): Promise<void> {
    if (this.stopped) return Promise.reject(new LokiError('unavailable', 'shutting_down', 'Ingester is shutting down'));
    const refusal = this.wal?.pushRefusal();
    if (refusal) return Promise.reject(refusal);
    const now = this.now();
    const instance = this.instanceFor(tenant);
    let error: LokiError | undefined;
    let durable = SETTLED;
    // Chunks this push fills are flushed only once its WAL write settles (see ChunkFlusher.endPush).
    this.flusher.beginPush();
    try {
      const stored = instance.push(streams, now, whole !== undefined);
      error = stored.error;
      keepHeadsUnderLimit(this.instances, this.headMemory, this.deps.config.head_memory_limit);
      if (this.wal) durable = this.wal.logPush(tenant, stored, whole);
    } finally {
      this.flusher.endPush(durable);
    }
    return error ? durable.then(() => Promise.reject(error)) : durable;
  }

  /** The tenant's in-memory streams whose labels match every matcher. */
  streamsMatching(tenant: string, matchers: readonly LabelMatcher[]): Stream[] {
    return this.instances.get(tenant)?.matching(matchers) ?? [];
  }

  /**
   * A querier's log selection (querier/ingester-reader.ts), run over this ingester's memory: the lines
   * nearest the selection's start or end that pass its pipeline. The chunks are snapshotted when called.
   */
  selectLogs(selection: MemoryLogsSelection, ctx: CallContext): Promise<MemoryLogs> {
    return selectLogsIn(this.streamsMatching(selection.tenant, compileMatchers(selection.matchers)), selection, this.queryShards, ctx);
  }

  /** A querier's sample selection, as selectLogs: each stream's samples, not yet aggregated. */
  selectSamples(selection: MemorySamplesSelection, ctx: CallContext): Promise<MemorySamples> {
    return selectSamplesIn(this.streamsMatching(selection.tenant, compileMatchers(selection.matchers)), selection, this.queryShards, ctx);
  }

  /** The querier's metadata read (querier/ingester-reader.ts): matching streams with chunk counts in [from, through]. */
  async streamStats(tenant: string, matchers: readonly LabelMatcherData[], from: bigint, through: bigint): Promise<MemoryStreamStats[]> {
    return streamStatsOf(this.streamsMatching(tenant, compileMatchers(matchers)), from, through);
  }

  /** Chunks held in memory, open or waiting to be flushed or indexed, across all tenants. */
  chunksInMemory(): number {
    let n = 0;
    for (const instance of this.instances.values()) n += instance.chunkCount();
    return n;
  }

  /** Uncompressed bytes held in head blocks, across all streams. */
  get headMemoryUsed(): number {
    return this.headMemory.used;
  }

  /**
   * Flushes everything now (Loki's POST /flush): closes every open chunk, waits until all are in the store,
   * writes the index, and checkpoints the WAL. Rejects if the store stays unavailable past flush_op_timeout.
   */
  async flushAll(): Promise<void> {
    this.flusher.closeAll(this.instances.values(), this.walSettled());
    const timeoutMs = msOf(this.deps.config.flush_op_timeout);
    await withTimeout(this.flusher.idle(), timeoutMs, 'flushing chunks');
    await this.serialized(async () => {
      await this.cutIndexRetrying(this.now() + timeoutMs);
      await this.checkpoint();
    });
    this.releaseSpentMemory();
  }

  /** Stops accepting pushes; flushes everything if wal.flush_on_shutdown (or there is no WAL). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wal?.stopWatchingDisk();
    for (const t of this.timers) clearInterval(t);
    this.flusher.stop();
    try {
      if (this.deps.config.wal.flush_on_shutdown || !this.wal) await this.flushAll();
    } finally {
      await this.wal?.close();
    }
  }

  private instanceFor(tenant: string): TenantInstance {
    let instance = this.instances.get(tenant);
    const deps = this.instanceDepsFor(this.deps.limits.forTenant(tenant));
    if (!instance) this.instances.set(tenant, (instance = new TenantInstance(tenant, deps)));
    else instance.useDeps(deps);
    return instance;
  }

  /** The settings, limits and callbacks of the instances of tenants with these limits. */
  private instanceDepsFor(limits: LimitsConfig): InstanceDeps {
    let deps = this.instanceDeps.get(limits);
    if (deps) return deps;
    const { config, metrics } = this.deps;
    deps = {
      settings: {
        encoding: config.chunk_encoding,
        blockSize: config.chunk_block_size,
        targetSize: config.chunk_target_size,
        maxBehindSeconds: secondsOf(config.max_chunk_age / 2n),
        maxBehindNanos: nanosPartOf(config.max_chunk_age / 2n),
        rateLimitBytes: limits.per_stream_rate_limit,
        rateBurstBytes: limits.per_stream_rate_limit_burst,
        headMemory: this.headMemory,
      },
      metrics,
      maxStreams: maxStreamsPerTenant(limits),
      maxReturnedStreamErrors: config.max_returned_stream_errors,
      logDuplicateMetrics: this.deps.logDuplicateMetrics ?? false,
      outcome: this.outcome,
      onChunkFull: (tenant, stream, desc) => this.flusher.chunkFull(tenant, stream, desc),
    };
    this.instanceDeps.set(limits, deps);
    return deps;
  }

  private applyReplayed(rec: WalRecord): void {
    const { entries, bytes } = replayRecord(rec, this.instanceFor(rec.tenant), this.now());
    keepHeadsUnderLimit(this.instances, this.headMemory, this.deps.config.head_memory_limit);
    this.deps.metrics.walRecoveredEntries.inc(entries);
    this.deps.metrics.walRecoveredBytes.inc(bytes);
  }

  /**
   * The flush check: queues idle and old chunks for flushing, lets indexed chunks past chunk_retain_period
   * go, then forgets idle streams left empty.
   */
  private sweep(): void {
    this.flusher.closeIdleAndOld(this.instances.values(), this.walSettled());
    this.releaseSpentMemory();
  }

  /** Lets indexed chunks past chunk_retain_period leave memory, then forgets idle streams left empty. */
  private releaseSpentMemory(): void {
    this.indexCutter.releaseRetained();
    this.dropIdleStreams(this.now());
  }

  private dropIdleStreams(now: number): void {
    const idleMs = msOf(this.deps.config.chunk_idle_period);
    for (const [tenant, instance] of this.instances) {
      instance.dropIdleEmptyStreams(now, idleMs);
      if (instance.streams.size === 0) this.instances.delete(tenant);
    }
  }

  /** What is in memory now will be durable (or taken back) once every WAL write begun so far settles. */
  private walSettled(): Promise<void> {
    return this.wal ? this.wal.settled() : SETTLED;
  }

  private checkpoint(): Promise<void> {
    return this.wal ? this.wal.checkpoint(this.instances.values()) : SETTLED;
  }

  /** An index cut, tried again with backoff while the store fails, until `deadline` (ms). */
  private async cutIndexRetrying(deadline: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.indexCutter.cut();
        return;
      } catch (e) {
        if (this.now() > deadline) throw e;
        await sleep(Math.min(100 * 2 ** attempt, 5000));
      }
    }
  }

  private every(periodNs: bigint, fn: () => void | Promise<void>): void {
    const t = setInterval(
      () => {
        void Promise.resolve(fn()).catch((e: Error) => this.log.error(`ingester: ${e.message}`));
      },
      Math.max(msOf(periodNs), 10),
    );
    t.unref();
    this.timers.push(t);
  }

  /** Runs index cuts and checkpoints one at a time: a checkpoint must not snapshot a cut halfway. */
  private serialized(fn: () => Promise<void>): Promise<void> {
    const next = this.maintenance.then(fn, fn);
    this.maintenance = next.catch(() => {});
    return next;
  }
}

function sleep(msec: number): Promise<void> {
  return new Promise((r) => setTimeout(r, msec));
}

async function withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LokiError('internal', 'flush_timeout', `${what} did not finish within ${timeoutMs}ms`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
