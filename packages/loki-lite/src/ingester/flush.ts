import { type Logger, NANOS_PER_MS } from '@loki-lite/shared';
import { chunkChecksum } from '../chunk/format.js';
import type { IngesterConfig } from '../config/schema.js';
import type { ChunkRef } from '../index/types.js';
import type { Metrics } from '../metrics.js';
import type { LogStore } from '../storage/log-store.js';
import type { TenantInstance } from './instance.js';
import type { ChunkDesc, Stream } from './stream.js';

/** A closed chunk on its way to the object store. */
export interface FlushItem {
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

export interface FlushDeps {
  readonly config: IngesterConfig;
  readonly store: LogStore;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => number;
  /** Told of each chunk once it is in the store, so an index cut can list it. */
  readonly onFlushed: (item: FlushItem) => void;
}

const SETTLED = Promise.resolve();
const noop = () => {};
const FLUSH_CONCURRENCY = 4;
const msOf = (ns: bigint) => Number(ns / NANOS_PER_MS);

/**
 * Closes chunks (full, idle, too old, or all at once on /flush) and puts them in the object store, a few at
 * a time, retrying a failed put with backoff until it succeeds: the ingester never drops a chunk it could
 * not store (Loki gives up after flush_op_backoff.max_retries). A chunk is flushed only once the WAL writes
 * of its entries have settled, so no entry taken back after a failed write reaches the store.
 */
export class ChunkFlusher {
  private readonly queue: FlushItem[] = [];
  private running = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  /** While a push is being stored (beginPush to endPush): the chunks it filled, flushed once its WAL write settles. */
  private readonly filledInPush: FlushItem[] = [];
  private storingPush = false;

  constructor(private readonly deps: FlushDeps) {}

  /** Chunks queued or being put: the flush queue length metric. */
  get length(): number {
    return this.queue.length + this.running;
  }

  beginPush(): void {
    this.storingPush = true;
  }

  /** The push is stored: the chunks it filled are queued, to be flushed once `durable` settles. */
  endPush(durable: Promise<void>): void {
    this.storingPush = false;
    if (this.filledInPush.length === 0) return;
    const settled = durable.catch(noop);
    for (const item of this.filledInPush) this.enqueue({ ...item, settled });
    this.filledInPush.length = 0;
  }

  /** A chunk closed because it is full: flushed once the WAL writes of its entries settle. */
  chunkFull(tenant: string, stream: Stream, desc: ChunkDesc): void {
    const item = { tenant, stream, desc, reason: 'full', settled: SETTLED };
    if (this.storingPush) this.filledInPush.push(item);
    else this.enqueue(item);
  }

  /** The flush check: closes chunks idle longer than chunk_idle_period or spanning more than max_chunk_age. */
  closeIdleAndOld(instances: Iterable<TenantInstance>, settled: Promise<void>): void {
    const now = this.deps.now();
    const { chunk_idle_period: idle, max_chunk_age: maxAge } = this.deps.config;
    const idleMs = msOf(idle);
    this.closeOpenChunks(instances, settled, (stream, head) => {
      if (now - stream.lastAppendMs >= idleMs) return 'idle';
      return head.chunk.maxTs - head.chunk.minTs >= maxAge ? 'max_age' : undefined;
    });
  }

  /** Closes every open chunk (a forced flush). */
  closeAll(instances: Iterable<TenantInstance>, settled: Promise<void>): void {
    this.closeOpenChunks(instances, settled, () => 'forced');
  }

  /** Closes and queues each open chunk `reasonToClose` gives a reason for; `settled`: see FlushItem. */
  private closeOpenChunks(
    instances: Iterable<TenantInstance>,
    settled: Promise<void>,
    reasonToClose: (stream: Stream, head: ChunkDesc) => string | undefined,
  ): void {
    for (const instance of instances) {
      for (const stream of instance.streams.values()) {
        const head = stream.openDesc;
        const reason = head && reasonToClose(stream, head);
        if (!head || !reason) continue;
        stream.closeOpenChunk();
        this.enqueue({ tenant: instance.tenant, stream, desc: head, reason, settled });
      }
    }
  }

  /** Resolves once nothing is queued or being put. */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops waking for retries; puts in flight finish on their own. */
  stop(): void {
    clearTimeout(this.retryTimer);
  }

  private enqueue(item: FlushItem): void {
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    while (this.running < FLUSH_CONCURRENCY) {
      const now = this.deps.now();
      const i = this.queue.findIndex((f) => f.desc.retryAtMs <= now);
      if (i < 0) {
        this.armRetryTimer(now);
        break;
      }
      const [item] = this.queue.splice(i, 1);
      this.running++;
      void this.flush(item!).finally(() => {
        this.running--;
        this.pump();
        if (this.length === 0) this.wakeIdleWaiters();
      });
    }
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Wakes the queue when its earliest waiting retry is due. A timer may fire a little before the clock
   * reaches the due time, so pump re-arms it whenever items are still waiting.
   */
  private armRetryTimer(now: number): void {
    if (this.retryTimer || this.queue.length === 0) return;
    const due = Math.min(...this.queue.map((f) => f.desc.retryAtMs));
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.pump();
      },
      Math.max(1, due - now + 1),
    );
    this.retryTimer.unref();
  }

  private async flush(item: FlushItem): Promise<void> {
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
      fingerprint: stream.fingerprint,
      from: desc.chunk.minTs,
      through: desc.chunk.maxTs,
      checksum: chunkChecksum(bytes),
      size: bytes.length,
      entries: desc.chunk.entries,
      lineBytes: desc.chunk.lineBytes,
    };
    try {
      await this.deps.store.putChunk(tenant, ref, bytes);
      this.flushed(item, ref);
    } catch (e) {
      this.retryLater(item, e as Error);
    }
  }

  private flushed(item: FlushItem, ref: ChunkRef): void {
    const { tenant, stream, desc } = item;
    const { metrics, config, log } = this.deps;
    desc.state = 'flushed';
    desc.ref = ref;
    metrics.chunksFlushed.inc({ reason: item.reason });
    metrics.observeFlushedChunk(tenant, ref, desc.chunk.lineBytes, (this.deps.now() - msOf(ref.from)) / 1000, config.chunk_target_size);
    log.debug(`flushed chunk of ${stream.labelsString} (tenant ${tenant}, reason ${item.reason}): ${ref.entries} entries, ${ref.size} bytes`);
    this.deps.onFlushed(item);
  }

  /** Puts the item back in the queue, due after a backoff that doubles with each failure up to max_period. */
  private retryLater(item: FlushItem, error: Error): void {
    const { desc } = item;
    desc.state = 'closed';
    desc.flushFailures++;
    const { min_period, max_period } = this.deps.config.flush_op_backoff;
    const backoff = Math.min(msOf(min_period) * 2 ** (desc.flushFailures - 1), msOf(max_period));
    desc.retryAtMs = this.deps.now() + backoff;
    this.deps.metrics.chunkFlushFailures.inc();
    this.deps.log.warn(`failed to flush chunk of ${item.stream.labelsString} (tenant ${item.tenant}), retrying in ${backoff}ms: ${error.message}`);
    this.queue.push(item);
  }
}
