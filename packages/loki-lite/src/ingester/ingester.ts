import { type Logger, LokiError, NANOS_PER_MS, nanosPartOf, secondsOf, silentLogger } from '@loki-lite/shared';
import { HeadMemory } from '../chunk/mem-chunk.js';
import type { IngesterConfig, LimitsConfig } from '../config/schema.js';
import type { LabelMatcher } from '../logql/syntax/matchers.js';
import type { Metrics } from '../metrics.js';
import type { LogStore } from '../storage/log-store.js';
import { ChunkFlusher } from './flush.js';
import { keepHeadsUnderLimit } from './head-limit.js';
import { IndexCutter } from './index-cut.js';
import { EntrySet } from './entry-set.js';
import { type InstanceDeps, maxStreamsPerTenant, TenantInstance } from './instance.js';
import type { IngestStream, WholePushBody } from './push-request.js';
import { writeCheckpoint } from './checkpoint.js';
import { replayRecord, storedStreamsOf } from './recovery.js';
import { PushOutcome, type Stream } from './stream.js';
import { ByteWriter } from '../util/binary.js';
import { DirLock } from './wal/dir-lock.js';
import { DiskSpaceGuard, type FreeBytesOf } from './wal/disk-space.js';
import { encodePushRecord, encodeRecord, scanRecords, type WalRecord, type WalStream } from './wal/record.js';
import { type OpenWalFile, Wal } from './wal/wal.js';

export interface IngesterDeps {
  readonly config: IngesterConfig;
  readonly limits: LimitsConfig;
  readonly store: LogStore;
  readonly metrics: Metrics;
  /** operational_config.log_duplicate_metrics: count the bytes of entries dropped as duplicates. */
  readonly logDuplicateMetrics?: boolean;
  readonly log?: Logger;
  readonly nowMs?: () => number;
  /** Tests only: how WAL files are opened and free disk space is read (a disk that fills up). */
  readonly walFiles?: { readonly open?: OpenWalFile; readonly freeBytes?: FreeBytesOf };
}

const SETTLED = Promise.resolve();
const noop = () => {};
const msOf = (ns: bigint) => Number(ns / NANOS_PER_MS);

/**
 * The ingester service (Loki's pkg/ingester/ingester.go): holds every tenant's recent streams in memory
 * (TenantInstance), makes pushes durable in the WAL before they are acknowledged, and moves
 * data to the object store: full, idle or old chunks are flushed, retried until they succeed (ChunkFlusher),
 * and the refs of flushed chunks are written as index files every index_cut_period (IndexCutter). A chunk
 * leaves memory only once an index file lists it, so queries always see it. This class owns the lifecycle
 * (start, stop, the timers) and wires the parts.
 */
export class Ingester {
  private readonly instances = new Map<string, TenantInstance>();
  private readonly instanceDeps: InstanceDeps;
  private readonly headMemory: HeadMemory;
  private readonly flusher: ChunkFlusher;
  private readonly indexCutter: IndexCutter;
  private wal: Wal | undefined;
  /** The WAL folder is this process's alone while it runs (see DirLock). */
  private walLock: DirLock | undefined;
  private diskSpace: DiskSpaceGuard | undefined;
  private readonly walWriter = new ByteWriter(1 << 16);
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: Logger;
  private readonly now: () => number;
  private stopped = false;
  /** Index cuts and checkpoints, run one at a time (see serialized). */
  private maintenance: Promise<void> = SETTLED;

  constructor(private readonly deps: IngesterDeps) {
    const { config, limits, metrics } = deps;
    this.log = deps.log ?? silentLogger;
    this.now = deps.nowMs ?? Date.now;
    this.headMemory = new HeadMemory(config.head_memory_limit);
    this.indexCutter = new IndexCutter({ store: deps.store, metrics, log: this.log });
    this.flusher = new ChunkFlusher({
      config, store: deps.store, metrics, log: this.log, now: this.now,
      onFlushed: (item) => this.indexCutter.chunkFlushed(item),
    });
    this.instanceDeps = {
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
      logDuplicateMetrics: deps.logDuplicateMetrics ?? false,
      outcome: new PushOutcome(),
      onChunkFull: (tenant, stream, desc) => this.flusher.chunkFull(tenant, stream, desc),
    };
    metrics.chunksInMemory = () => this.chunksInMemory();
    metrics.flushQueueLength = () => this.flusher.length;
  }

  /** Replays the WAL, then starts the flush, index and checkpoint timers. */
  async start(): Promise<void> {
    const { config, metrics } = this.deps;
    if (config.wal.enabled) {
      this.walLock = await DirLock.acquire(config.wal.dir);
      this.wal = await Wal.open(config.wal.dir, (rec) => this.applyReplayed(rec), {
        onFsync: (s) => metrics.walFsyncSeconds.observe(s),
        onCorruption: () => metrics.walCorruptions.inc(),
        onWriteFailed: (records, e) => this.walWriteFailed(records, e),
        log: (m) => this.log.info(m),
        openFile: this.deps.walFiles?.open,
      });
      this.diskSpace = new DiskSpaceGuard(config.wal.dir, config.wal.min_free_disk_space, 1000, {
        onChange: (refusing, free) => this.diskSpaceChanged(refusing, free),
      }, this.deps.walFiles?.freeBytes);
      await this.diskSpace.start();
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
    const refusal = this.diskSpace?.refusal;
    if (refusal) {
      this.deps.metrics.walDiskFullFailures.inc();
      return Promise.reject(refusal);
    }
    const now = this.now();
    const instance = this.instanceFor(tenant);
    let error: LokiError | undefined;
    let durable = SETTLED;
    // Chunks this push fills are flushed only once its WAL write settles (see ChunkFlusher.endPush).
    this.flusher.beginPush();
    try {
      const stored = instance.push(streams, now, whole !== undefined);
      error = stored.error;
      keepHeadsUnderLimit(this.instances.values(), this.headMemory, this.deps.config.head_memory_limit);
      if (this.wal) durable = this.logToWal(tenant, stored.storedAny ? stored.listed : [], stored.storedAll, whole);
    } finally {
      this.flusher.endPush(durable);
    }
    return error ? durable.then(() => Promise.reject(error)) : durable;
  }

  /**
   * Appends what the push stored to the WAL (the listed entries, or else the whole body) and resolves when
   * it is durable. A push that left entries out may have done so because they repeat entries of earlier
   * pushes still being written, so it also waits for those, and fails if any of them does.
   */
  private logToWal(tenant: string, listed: WalStream[] | undefined, storedAll: boolean, whole: WholePushBody | undefined): Promise<void> {
    const wal = this.wal!;
    let written = SETTLED;
    if (!listed || listed.length > 0) {
      written = wal.append(listed
        ? encodeRecord(this.walWriter, { tenant, streams: listed })
        : encodePushRecord(this.walWriter, tenant, whole!.serviceNameFrom, whole!.snappyProtobuf));
    }
    const durable = storedAll ? written : Promise.all([written, wal.barrier()]);
    return durable.then(noop, (e: Error) => Promise.reject(walWriteError(e)));
  }

  /**
   * A WAL write failed: its pushes are answered with an error, so their entries must not stay in memory
   * (queries would show them until a restart, and a later checkpoint or flush would keep them for good).
   * Each record lists exactly what its push stored, so those entries are taken back by content.
   */
  private walWriteFailed(records: readonly Buffer[], error: Error): void {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      this.deps.metrics.walDiskFullFailures.inc();
      void this.diskSpace?.check();
    }
    const failed = new Map<Stream, EntrySet>();
    const recs = scanRecords(Buffer.concat(records)).records;
    for (const rec of recs) {
      for (const s of storedStreamsOf(rec)) {
        const stream = this.instances.get(rec.tenant)?.streams.get(s.labelsString);
        if (!stream) continue;
        let set = failed.get(stream);
        if (!set) failed.set(stream, (set = new EntrySet()));
        set.addBatch(s.entries);
      }
    }
    let taken = 0;
    for (const [stream, set] of failed) taken += stream.takeBack(set);
    this.log.error(`WAL write failed, ${recs.length} pushes answered with an error and their ${taken} entries taken back out of memory: ${error.message}`);
  }

  private diskSpaceChanged(refusing: boolean, freeBytes: number): void {
    const { dir, min_free_disk_space: min } = this.deps.config.wal;
    if (!refusing) {
      this.log.warn(`WAL disk has room again (${freeBytes} bytes free in ${dir}); taking pushes again`);
      return;
    }
    this.log.error(`WAL disk nearly full: ${freeBytes} bytes free in ${dir}, below ingester.wal.min_free_disk_space (${min}); refusing pushes until space is freed`);
    // A checkpoint lets the segments it covers go, which is often most of the WAL's disk.
    void this.serialized(() => this.checkpoint()).catch((e: Error) => this.log.error(`ingester: ${e.message}`));
  }

  /** The tenant's in-memory streams whose labels match every matcher. */
  streamsMatching(tenant: string, matchers: readonly LabelMatcher[]): Stream[] {
    return this.instances.get(tenant)?.matching(matchers) ?? [];
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
    this.dropIdleStreams(this.now());
  }

  /** Stops accepting pushes; flushes everything if wal.flush_on_shutdown (or there is no WAL). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.diskSpace?.stop();
    for (const t of this.timers) clearInterval(t);
    this.flusher.stop();
    try {
      if (this.deps.config.wal.flush_on_shutdown || !this.wal) await this.flushAll();
    } finally {
      await this.wal?.close();
      await this.walLock?.release();
    }
  }

  private instanceFor(tenant: string): TenantInstance {
    let instance = this.instances.get(tenant);
    if (!instance) this.instances.set(tenant, (instance = new TenantInstance(tenant, this.instanceDeps)));
    return instance;
  }

  private applyReplayed(rec: WalRecord): void {
    replayRecord(rec, this.instanceFor(rec.tenant), this.now());
    keepHeadsUnderLimit(this.instances.values(), this.headMemory, this.deps.config.head_memory_limit);
    this.deps.metrics.walRecordsReplayed.inc();
  }

  /** The flush check: queues idle and old chunks for flushing, then forgets idle streams left empty. */
  private sweep(): void {
    this.flusher.closeIdleAndOld(this.instances.values(), this.walSettled());
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
    return this.wal ? this.wal.barrier().catch(noop) : SETTLED;
  }

  private checkpoint(): Promise<void> {
    return this.wal ? writeCheckpoint(this.wal, this.instances.values(), this.log) : SETTLED;
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
    const t = setInterval(() => {
      void Promise.resolve(fn()).catch((e: Error) => this.log.error(`ingester: ${e.message}`));
    }, Math.max(msOf(periodNs), 10));
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

function walWriteError(e: Error): LokiError {
  if (e instanceof LokiError) return e;
  return new LokiError('internal', 'wal_write_failed', `writing to the WAL failed, so the push was not stored: ${e.message}`);
}
