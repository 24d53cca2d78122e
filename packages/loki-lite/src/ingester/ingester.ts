import { LokiError, nanosPartOf, secondsOf, type Labels } from '@loki-lite/shared';
import { chunkChecksum } from '../chunk/format.js';
import { HeadMemory } from '../chunk/mem-chunk.js';
import type { IngesterConfig, LimitsConfig } from '../config/schema.js';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import type { LabelMatcher } from '../logql/syntax/matchers.js';
import type { Metrics } from '../metrics.js';
import type { LogStore, PlannedIndexFile } from '../storage/log-store.js';
import { ByteWriter } from '../util/binary.js';
import { type Logger, silentLogger } from '@loki-lite/shared';
import { keepHeadsUnderLimit } from './head-limit.js';
import { type InstanceDeps, maxStreamsPerTenant, TenantInstance } from './instance.js';
import { type ChunkDesc, PushOutcome, type Stream } from './stream.js';
import { encodePushRecord, encodeRecord, scanRecords, type WalRecord, type WalStream } from './wal/record.js';
import { writeCheckpoint } from './checkpoint.js';
import type { IngestStream, WholePushBody } from './push-request.js';
import { replayRecord, storedStreamsOf } from './recovery.js';
import { type OpenWalFile, Wal } from './wal/wal.js';
import { DiskSpaceGuard, type FreeBytesOf } from './wal/disk-space.js';
import { DirLock } from './wal/dir-lock.js';
import { EntrySet } from './entry-set.js';

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

interface FlushItem {
  readonly tenant: string;
  readonly stream: Stream;
  readonly desc: ChunkDesc;
  /** Why the chunk was closed: full, idle, max_age or forced (Loki's flush reasons). */
  readonly reason: string;
  /**
   * Settles once the WAL writes of every entry in the chunk have succeeded or failed (and the entries of a
   * failed one are taken back): a chunk in the store could not be taken back.
   */
  readonly settled: Promise<void>;
}

const SETTLED = Promise.resolve();
const noop = () => {};

/** A tenant's index cut: the flushed chunks it lists, and its files not yet written. */
interface IndexCut {
  readonly items: readonly FlushItem[];
  unwritten: readonly PlannedIndexFile[];
}

const FLUSH_CONCURRENCY = 4;
const ms = (ns: bigint) => Number(ns / 1_000_000n);

/**
 * Holds every tenant's recent streams in memory, makes pushes durable in the WAL before they are
 * acknowledged, and moves data to the object store: full, idle or old chunks are flushed (retried with
 * backoff until they succeed), and the refs of flushed chunks are written as index files every
 * index_cut_period. A chunk leaves memory only once an index file lists it, so queries always see it.
 */
export class Ingester {
  private readonly instances = new Map<string, TenantInstance>();
  private readonly instanceDeps: InstanceDeps;
  private readonly headMemory: HeadMemory;
  private readonly awaitingIndex = new Map<string, FlushItem[]>();
  /** Per tenant, the cut some of whose index files failed: the next cut writes just those first. */
  private readonly unfinishedCuts = new Map<string, IndexCut>();
  private readonly flushQueue: FlushItem[] = [];
  private flushesRunning = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushIdleWaiters: Array<() => void> = [];
  private wal: Wal | undefined;
  /** The WAL folder is this process's alone while it runs (see DirLock). */
  private walLock: DirLock | undefined;
  private diskSpace: DiskSpaceGuard | undefined;
  /** While a push is being stored (storingPush): the chunks it filled, flushed once its WAL write settles. */
  private readonly filledInPush: FlushItem[] = [];
  private storingPush = false;
  private readonly walWriter = new ByteWriter(1 << 16);
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: Logger;
  private readonly now: () => number;
  private stopped = false;
  private maintenance: Promise<void> = Promise.resolve();

  constructor(private readonly deps: IngesterDeps) {
    const { config, limits } = deps;
    this.log = deps.log ?? silentLogger;
    this.now = deps.nowMs ?? Date.now;
    deps.metrics.chunksInMemory = () => this.chunksInMemory();
    deps.metrics.flushQueueLength = () => this.flushQueue.length + this.flushesRunning;
    this.headMemory = new HeadMemory(config.head_memory_limit);
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
      metrics: deps.metrics,
      maxStreams: maxStreamsPerTenant(limits),
      maxReturnedStreamErrors: config.max_returned_stream_errors,
      logDuplicateMetrics: deps.logDuplicateMetrics ?? false,
      outcome: new PushOutcome(),
      onChunkFull: (tenant, stream, desc) => this.chunkFilled(tenant, stream, desc),
    };
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
    this.every(config.flush_check_period, () => this.closeIdleAndOldChunks());
    this.every(config.index_cut_period, () => this.serialized(() => this.cutIndex()));
    if (this.wal) this.every(config.wal.checkpoint_duration, () => this.serialized(() => this.checkpoint()));
  }

  private every(periodNs: bigint, fn: () => void | Promise<void>): void {
    const t = setInterval(() => {
      void Promise.resolve(fn()).catch((e: Error) => this.log.error(`ingester: ${e.message}`));
    }, Math.max(ms(periodNs), 10));
    t.unref();
    this.timers.push(t);
  }

  /** Runs index cuts and checkpoints one at a time. */
  private serialized(fn: () => Promise<void>): Promise<void> {
    const next = this.maintenance.then(fn, fn);
    this.maintenance = next.catch(() => {});
    return next;
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
    this.storingPush = true;
    let durable = SETTLED;
    try {
      const stored = instance.push(streams, now, whole !== undefined);
      error = stored.error;
      keepHeadsUnderLimit(this.instances.values(), this.headMemory, this.deps.config.head_memory_limit);
      if (this.wal) durable = this.logToWal(tenant, stored.storedAny ? stored.listed : [], stored.storedAll, whole);
    } finally {
      this.flushClosedInPush(durable);
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

  /** Queues the chunks the push filled for flushing, once `durable` settles. */
  private flushClosedInPush(durable: Promise<void>): void {
    this.storingPush = false;
    if (this.filledInPush.length === 0) return;
    const settled = durable.catch(noop);
    for (const item of this.filledInPush) this.enqueueFlush({ ...item, settled });
    this.filledInPush.length = 0;
  }

  /** A chunk closed because it is full: flushed once the WAL writes of its entries settle. */
  private chunkFilled(tenant: string, stream: Stream, desc: ChunkDesc): void {
    const item = { tenant, stream, desc, reason: 'full', settled: SETTLED };
    if (this.storingPush) this.filledInPush.push(item);
    else this.enqueueFlush(item);
  }

  /** What is in memory now will be durable (or taken back) once every WAL write begun so far settles. */
  private walSettled(): Promise<void> {
    return this.wal ? this.wal.barrier().catch(noop) : SETTLED;
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

  private instanceFor(tenant: string): TenantInstance {
    let instance = this.instances.get(tenant);
    if (!instance) this.instances.set(tenant, (instance = new TenantInstance(tenant, this.instanceDeps)));
    return instance;
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

  private applyReplayed(rec: WalRecord): void {
    const now = this.now();
    replayRecord(rec, this.instanceFor(rec.tenant), now);
    keepHeadsUnderLimit(this.instances.values(), this.headMemory, this.deps.config.head_memory_limit);
    this.deps.metrics.walRecordsReplayed.inc();
  }

  // ---- read side -------------------------------------------------------------------------------------

  /** The tenant's in-memory streams whose labels match every matcher. */
  streamsMatching(tenant: string, matchers: readonly LabelMatcher[]): Stream[] {
    return this.instances.get(tenant)?.matching(matchers) ?? [];
  }

  // ---- flushing --------------------------------------------------------------------------------------

  private enqueueFlush(item: FlushItem): void {
    this.flushQueue.push(item);
    this.pumpFlushes();
  }

  private pumpFlushes(): void {
    while (this.flushesRunning < FLUSH_CONCURRENCY) {
      const now = this.now();
      const i = this.flushQueue.findIndex((f) => f.desc.retryAtMs <= now);
      if (i < 0) {
        this.armRetryTimer(now);
        break;
      }
      const [item] = this.flushQueue.splice(i, 1);
      this.flushesRunning++;
      void this.flushChunk(item!).finally(() => {
        this.flushesRunning--;
        this.pumpFlushes();
        if (this.flushesRunning === 0 && this.flushQueue.length === 0) {
          const waiters = this.flushIdleWaiters;
          this.flushIdleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }

  /**
   * Wakes the flush queue when its earliest waiting retry is due. A timer may fire a little before the
   * clock reaches the due time, so pumpFlushes re-arms it whenever items are still waiting.
   */
  private armRetryTimer(now: number): void {
    if (this.retryTimer || this.flushQueue.length === 0) return;
    const due = Math.min(...this.flushQueue.map((f) => f.desc.retryAtMs));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pumpFlushes();
    }, Math.max(1, due - now + 1));
    this.retryTimer.unref();
  }

  private async flushChunk(item: FlushItem): Promise<void> {
    const { tenant, stream, desc } = item;
    await item.settled;
    if (desc.chunk.entries === 0) {
      // Every entry of it was taken back after a failed WAL write.
      const i = stream.chunks.indexOf(desc);
      if (i >= 0 && desc !== stream.openDesc) stream.chunks.splice(i, 1);
      return;
    }
    desc.state = 'flushing';
    const bytes = desc.chunk.encode();
    const ref: ChunkRef = {
      fingerprint: stream.fingerprint, from: desc.chunk.minTs, through: desc.chunk.maxTs,
      checksum: chunkChecksum(bytes), size: bytes.length, entries: desc.chunk.entries, lineBytes: desc.chunk.lineBytes,
    };
    try {
      await this.deps.store.putChunk(tenant, ref, bytes);
      desc.state = 'flushed';
      desc.ref = ref;
      this.deps.metrics.chunksFlushed.inc({ reason: item.reason });
      this.deps.metrics.observeFlushedChunk(tenant, ref, desc.chunk.lineBytes, (this.now() - Number(ref.from / 1_000_000n)) / 1000, this.deps.config.chunk_target_size);
      this.log.debug(`flushed chunk of ${stream.labelsString} (tenant ${tenant}, reason ${item.reason}): ${ref.entries} entries, ${ref.size} bytes`);
      let list = this.awaitingIndex.get(tenant);
      if (!list) this.awaitingIndex.set(tenant, (list = []));
      list.push(item);
    } catch (e) {
      desc.state = 'closed';
      desc.flushFailures++;
      const { min_period, max_period } = this.deps.config.flush_op_backoff;
      const backoff = Math.min(ms(min_period) * 2 ** (desc.flushFailures - 1), ms(max_period));
      desc.retryAtMs = this.now() + backoff;
      this.deps.metrics.chunkFlushFailures.inc();
      this.log.warn(`failed to flush chunk of ${stream.labelsString} (tenant ${tenant}), retrying in ${backoff}ms: ${(e as Error).message}`);
      this.flushQueue.push(item);
    }
  }

  /** Flush-check: closes chunks idle longer than chunk_idle_period or spanning more than max_chunk_age. */
  private closeIdleAndOldChunks(): void {
    const now = this.now();
    const idleMs = ms(this.deps.config.chunk_idle_period);
    const settled = this.walSettled();
    for (const { tenant, streams } of this.instances.values()) {
      for (const stream of streams.values()) {
        const head = stream.openDesc;
        if (!head) continue;
        const idle = now - stream.lastAppendMs >= idleMs;
        const old = head.chunk.maxTs - head.chunk.minTs >= this.deps.config.max_chunk_age;
        if (idle || old) {
          stream.closeOpenChunk();
          this.enqueueFlush({ tenant, stream, desc: head, reason: idle ? 'idle' : 'max_age', settled });
        }
      }
    }
    this.dropEmptyStreams(now);
  }

  private dropEmptyStreams(now: number): void {
    const idleMs = ms(this.deps.config.chunk_idle_period);
    for (const [tenant, instance] of this.instances) {
      instance.dropIdleEmptyStreams(now, idleMs);
      if (instance.streams.size === 0) this.instances.delete(tenant);
    }
  }

  private flushQueueIdle(): Promise<void> {
    if (this.flushesRunning === 0 && this.flushQueue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushIdleWaiters.push(resolve));
  }

  /**
   * Writes one index file per tenant (and 24h table) for the chunks flushed since the last cut, then lets
   * those chunks leave memory. A cut is planned once: if some of its files fail, the next cut first writes
   * just those, under the same keys. (Planning the chunks into a new cut instead listed them in a second
   * file of every table whose file had been written.)
   */
  private async cutIndex(): Promise<void> {
    for (const tenant of new Set([...this.unfinishedCuts.keys(), ...this.awaitingIndex.keys()])) {
      const unfinished = this.unfinishedCuts.get(tenant);
      if (unfinished) await this.finishCut(tenant, unfinished);
      const items = this.awaitingIndex.get(tenant);
      if (!items || items.length === 0) continue;
      this.awaitingIndex.set(tenant, []);
      const cut: IndexCut = { items, unwritten: this.deps.store.planIndex(tenant, seriesOf(items)) };
      this.unfinishedCuts.set(tenant, cut);
      await this.finishCut(tenant, cut);
    }
  }

  /** Writes the cut's unwritten files; once all are written, its chunks leave memory. Throws if any fails. */
  private async finishCut(tenant: string, cut: IndexCut): Promise<void> {
    // Every put is waited for, failed or not: a retry never races an attempt still in flight.
    const results = await Promise.allSettled(cut.unwritten.map((file) => this.deps.store.writeIndexFile(file)));
    cut.unwritten = cut.unwritten.filter((_, i) => results[i]!.status === 'rejected');
    this.deps.metrics.indexFilesWritten.inc(results.length - cut.unwritten.length);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      this.deps.metrics.indexWriteFailures.inc(cut.unwritten.length);
      throw new Error(`writing the index of tenant ${tenant} failed; will retry: ${(failure.reason as Error).message}`);
    }
    this.unfinishedCuts.delete(tenant);
    this.log.debug(`index cut for tenant ${tenant}: ${results.length} index files for ${cut.items.length} chunks written`);
    for (const { stream, desc } of cut.items) {
      const i = stream.chunks.indexOf(desc);
      if (i >= 0) stream.chunks.splice(i, 1);
    }
  }

  private async checkpoint(): Promise<void> {
    if (!this.wal) return;
    await writeCheckpoint(this.wal, this.instances.values(), this.log);
  }

  /**
   * Flushes everything now (Loki's POST /flush): closes every open chunk, waits until all are in the store,
   * writes the index, and checkpoints the WAL. Rejects if the store stays unavailable past flush_op_timeout.
   */
  async flushAll(): Promise<void> {
    const settled = this.walSettled();
    for (const { tenant, streams } of this.instances.values()) {
      for (const stream of streams.values()) {
        const desc = stream.closeOpenChunk();
        if (desc) this.enqueueFlush({ tenant, stream, desc, reason: 'forced', settled });
      }
    }
    const timeoutMs = ms(this.deps.config.flush_op_timeout);
    await withTimeout(this.flushQueueIdle(), timeoutMs, 'flushing chunks');
    await this.serialized(async () => {
      const deadline = this.now() + timeoutMs;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.cutIndex();
          break;
        } catch (e) {
          if (this.now() > deadline) throw e;
          await sleep(Math.min(100 * 2 ** attempt, 5000));
        }
      }
      await this.checkpoint();
    });
    this.dropEmptyStreams(this.now());
  }

  /** Stops accepting pushes; flushes everything if wal.flush_on_shutdown (or there is no WAL). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.diskSpace?.stop();
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.retryTimer);
    try {
      if (this.deps.config.wal.flush_on_shutdown || !this.wal) await this.flushAll();
    } finally {
      await this.wal?.close();
      await this.walLock?.release();
    }
  }
}

function walWriteError(e: Error): LokiError {
  if (e instanceof LokiError) return e;
  return new LokiError('internal', 'wal_write_failed', `writing to the WAL failed, so the push was not stored: ${e.message}`);
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
