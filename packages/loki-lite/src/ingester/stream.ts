import {
  compareParts,
  type EntryBatch,
  type EntryColumns,
  formatBytes,
  formatRFC3339,
  LokiError,
  type Labels,
  nanosOfParts,
  nanosPartOf,
  secondsOf,
} from '@loki-lite/shared';
import { EntryProbe } from '../chunk/duplicates.js';
import type { Entry } from '../chunk/entry.js';
import type { ChunkEncoding } from '../chunk/format.js';
import { HeadMemory, MemChunk } from '../chunk/mem-chunk.js';
import type { MemoryChunkSnapshot } from '../chunk/snapshot.js';
import type { ChunkRef } from '../index/types.js';
import { copyBytes } from '../util/binary.js';
import { TokenBucket } from '../util/token-bucket.js';
import type { EntrySet } from './entry-set.js';

/**
 * A chunk's life: open (taking appends), closed (waiting to flush), flushing, flushed (in the store, not yet
 * listed by an index file), indexed (listed, kept in memory only for ingester.chunk_retain_period).
 */
export type ChunkState = 'open' | 'closed' | 'flushing' | 'flushed' | 'indexed';

/** A chunk of a stream with its flush bookkeeping. Kept in memory until an index file lists it (and chunk_retain_period after). */
export interface ChunkDesc {
  /** Replaced, never changed in place, when entries are taken back (see Stream.takeBack). */
  chunk: MemChunk;
  state: ChunkState;
  readonly createdMs: number;
  flushFailures: number;
  retryAtMs: number;
  ref?: ChunkRef;
}

export interface StreamSettings {
  /** Shared by all streams of an ingester: their uncompressed head bytes. */
  readonly headMemory: HeadMemory;
  readonly encoding: ChunkEncoding;
  readonly blockSize: number;
  readonly targetSize: number;
  /** Entries older than the stream's newest minus this are rejected (Loki: max_chunk_age / 2). */
  readonly maxBehindSeconds: number;
  readonly maxBehindNanos: number;
  readonly rateLimitBytes: number;
  readonly rateBurstBytes: number;
}

export interface EntryFailure {
  readonly timestamp: bigint;
  readonly bytes: number;
  readonly error: LokiError;
}

const NO_FAILURES: EntryFailure[] = [];
/** The entry a duplicate lookup is for: one for every stream, since a lookup ends before the next starts. */
const probe = new EntryProbe();

/** What Stream.push did with a batch; the ingester has one filled again per stream, not one made each time. */
export class PushOutcome {
  /** Indices of the batch's entries that were stored; undefined when all of them were. */
  stored: number[] | undefined = undefined;
  storedCount = 0;
  /** A new array for each batch that had failures (the shared empty one otherwise). */
  failed: EntryFailure[] = NO_FAILURES;
}

/** One stream of one tenant in the ingester: its chunks, newest last, and its acceptance state. */
export class Stream {
  readonly chunks: ChunkDesc[] = [];
  /** The newest of `chunks` while it takes appends, and its chunk (one step from the stream, not three). */
  private open: ChunkDesc | undefined;
  private openChunk: MemChunk | undefined;
  /** The newest entry's timestamp (no entry yet: -Infinity seconds). */
  private newestSeconds = Number.NEGATIVE_INFINITY;
  private newestNanos = 0;
  /** The oldest acceptable timestamp, as tooFarBehind last worked it out (for the error text). */
  private cutoffSeconds = 0;
  private cutoffNanos = 0;
  /**
   * Where the newest entry's line is, for dropping exact repeats of it: usually it is the entry last
   * appended to the open chunk, read there; only when another entry follows it (out of order, or at the
   * same time) or its chunk closes is it copied into `lastLine`. A copy per entry would touch one more
   * buffer per stream and push, which with thousands of streams is a cache miss each time.
   */
  private newestIsLastAppended = false;
  private lastLine: Buffer = Buffer.alloc(0);
  private lastLineLength = 0;
  private readonly limiter: TokenBucket;
  /** A number from the start so V8 stores it unboxed (see TokenBucket). */
  lastAppendMs = 0;
  /** Told the line bytes of each entry dropped because a chunk held it (Loki's duplicate metric). */
  onDuplicate: ((bytes: number) => void) | undefined = undefined;

  constructor(
    readonly labels: Labels,
    readonly labelsString: string,
    readonly fingerprint: string,
    private readonly settings: StreamSettings,
    nowMs: number,
    /** Called when a chunk is closed because it is full, so it can be queued for flushing. */
    private readonly onChunkClosed: (desc: ChunkDesc) => void,
  ) {
    this.limiter = new TokenBucket(settings.rateLimitBytes, settings.rateBurstBytes, nowMs);
    this.lastAppendMs = nowMs;
  }

  /**
   * Appends a batch, applying Loki's per-stream rules in its order: an exact duplicate of the newest entry
   * is dropped silently; then the per-stream rate limit; then the out-of-order window; then an entry no
   * later than the newest is dropped, as silently, if a chunk in memory already holds one with its
   * timestamp and line (Loki's head block does this for its head). Replayed entries (WAL) skip the limits,
   * not the duplicate check. Line bytes are copied from the batch; no string or BigInt is made.
   */
  push(batch: EntryBatch, nowMs: number, replay: boolean, outcome = new PushOutcome()): PushOutcome {
    let failed: EntryFailure[] = NO_FAILURES;
    let stored: number[] | undefined;
    let storedCount = 0;
    const { seconds, nanos, starts, ends, buf } = batch.columns;
    for (let i = 0; i < batch.count; i++) {
      const k = batch.first + i;
      const sec = seconds[k]!;
      const ns = nanos[k]!;
      const start = starts[k]!;
      const end = ends[k]!;
      const order = compareParts(sec, ns, this.newestSeconds, this.newestNanos);
      if (order === 0 && this.isNewestLine(buf, start, end)) {
        stored ??= firstIndices(i);
        continue;
      }
      if (!replay) {
        const error = this.rejection(batch, i, order, nowMs);
        if (error) {
          stored ??= firstIndices(i);
          if (failed === NO_FAILURES) failed = [];
          failed.push({ timestamp: batch.timestamp(i), bytes: end - start, error });
          continue;
        }
      }
      if (order <= 0 && this.holds(batch.columns, k)) {
        stored ??= firstIndices(i);
        this.onDuplicate?.(end - start);
        continue;
      }
      let chunk = this.openChunk;
      if (!chunk || chunk.isFull()) chunk = this.startChunk(nowMs);
      // This entry will be the last appended without being the newest: keep the newest line apart.
      if (order <= 0 && this.newestIsLastAppended) this.copyNewestLine();
      chunk.appendRaw(batch.columns, k, batch.structuredMetadata(i), order >= 0);
      if (order > 0) {
        this.newestSeconds = sec;
        this.newestNanos = ns;
        this.newestIsLastAppended = true;
      }
      stored?.push(i);
      storedCount++;
    }
    if (storedCount > 0) this.lastAppendMs = nowMs;
    outcome.stored = stored;
    outcome.storedCount = storedCount;
    outcome.failed = failed;
    return outcome;
  }

  /** True if a chunk in memory holds an entry with entry k's timestamp and line. */
  private holds(columns: EntryColumns, k: number): boolean {
    probe.set(columns, k);
    for (let i = this.chunks.length - 1; i >= 0; i--) if (this.chunks[i]!.chunk.holds(probe)) return true;
    return false;
  }

  /** True if buf[start, end) is the newest entry's line. */
  private isNewestLine(buf: Buffer, start: number, end: number): boolean {
    const newest = this.newestIsLastAppended ? this.openChunk!.lastLine() : { buf: this.lastLine, start: 0, end: this.lastLineLength };
    return end - start === newest.end - newest.start && buf.compare(newest.buf, newest.start, newest.end, start, end) === 0;
  }

  /** Copies the newest line out of the open chunk, into the stream's own buffer. */
  private copyNewestLine(): void {
    const { buf, start, end } = this.openChunk!.lastLine();
    const n = end - start;
    if (this.lastLine.length < n) this.lastLine = Buffer.allocUnsafe(Math.max(n, this.lastLine.length * 2, 64));
    copyBytes(buf, start, end, this.lastLine, 0);
    this.lastLineLength = n;
    this.newestIsLastAppended = false;
  }

  /** Why entry i, `order` against the newest, is refused: the rate limit first, then the window, as in Loki. */
  private rejection(batch: EntryBatch, i: number, order: number, nowMs: number): LokiError | undefined {
    const bytes = batch.lineBytes(i);
    if (!this.limiter.allowN(nowMs, bytes)) return streamRateLimited(this.settings.rateLimitBytes, this.labelsString, bytes);
    const k = batch.first + i;
    if (order < 0 && this.tooFarBehind(batch.columns.seconds[k]!, batch.columns.nanos[k]!)) return this.tooFarBehindError(batch, i);
    return undefined;
  }

  /** True if (sec, ns) is older than the newest entry minus the out-of-order window (left in cutoff*). */
  private tooFarBehind(sec: number, ns: number): boolean {
    this.cutoffSeconds = this.newestSeconds - this.settings.maxBehindSeconds;
    this.cutoffNanos = this.newestNanos - this.settings.maxBehindNanos;
    if (this.cutoffNanos < 0) {
      this.cutoffNanos += 1e9;
      this.cutoffSeconds--;
    }
    return compareParts(sec, ns, this.cutoffSeconds, this.cutoffNanos) < 0;
  }

  /** Loki's error for entry i, which tooFarBehind has just refused. */
  private tooFarBehindError(batch: EntryBatch, i: number): LokiError {
    return new LokiError(
      'bad_data',
      'too_far_behind',
      `entry too far behind, entry timestamp is: ${formatRFC3339(batch.timestamp(i))}, oldest acceptable timestamp is: ${formatRFC3339(nanosOfParts(this.cutoffSeconds, this.cutoffNanos))}`,
    );
  }

  /** Closes the open chunk if it is full (queueing it for flushing) and opens a new one. */
  private startChunk(nowMs: number): MemChunk {
    const full = this.open !== undefined;
    if (this.open) {
      if (this.newestIsLastAppended) this.copyNewestLine();
      this.open.state = 'closed';
      this.onChunkClosed(this.open);
    }
    const chunk = new MemChunk(this.settings.encoding, this.settings.blockSize, this.settings.targetSize, full, this.settings.headMemory);
    this.open = { chunk, state: 'open', createdMs: nowMs, flushFailures: 0, retryAtMs: 0 };
    this.openChunk = chunk;
    this.chunks.push(this.open);
    return chunk;
  }

  /** The chunk taking appends, if any. */
  get openDesc(): ChunkDesc | undefined {
    return this.open;
  }

  /** The open chunk, closed so it can be flushed (on age, idleness, or a forced flush). */
  closeOpenChunk(): ChunkDesc | undefined {
    const open = this.open;
    if (!open) return undefined;
    if (this.newestIsLastAppended) this.copyNewestLine();
    open.state = 'closed';
    this.open = undefined;
    this.openChunk = undefined;
    return open;
  }

  /**
   * Takes back the entries of pushes whose WAL write failed: one equal entry per entry of `failed`. Only
   * open and closed chunks can hold them (a chunk is flushed only once its entries are durable); those
   * that do are rebuilt without them. Returns how many entries were taken back.
   */
  takeBack(failed: EntrySet): number {
    const newestGoes =
      this.newestSeconds !== Number.NEGATIVE_INFINITY && failed.hasLine(nanosOfParts(this.newestSeconds, this.newestNanos), this.newestLineText());
    // The open chunk may be rebuilt, so a newest line that stays must not be read from it any more.
    if (!newestGoes && this.newestIsLastAppended) this.copyNewestLine();
    let taken = 0;
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const desc = this.chunks[i]!;
      const chunk = desc.chunk;
      if ((desc.state !== 'open' && desc.state !== 'closed') || chunk.entries === 0) continue;
      if (chunk.maxTs < failed.minTs || chunk.minTs > failed.maxTs) continue;
      const all = chunk.allEntries();
      const kept = all.filter((e) => !failed.take(e));
      if (kept.length === all.length) continue;
      taken += all.length - kept.length;
      desc.chunk = chunk.rebuiltWith(kept);
      if (desc === this.open) this.openChunk = desc.chunk;
    }
    if (newestGoes) this.newestFromMemory();
    return taken;
  }

  private newestLineText(): string {
    if (this.newestIsLastAppended) {
      const { buf, start, end } = this.openChunk!.lastLine();
      return buf.toString('utf8', start, end);
    }
    return this.lastLine.toString('utf8', 0, this.lastLineLength);
  }

  /** Makes the latest entry in memory the newest (none: the stream takes any timestamp again). */
  private newestFromMemory(): void {
    // Only the chunks whose latest timestamp is the latest of all can hold the newest entry.
    let latest = -1n;
    for (const c of this.chunks) if (c.chunk.entries > 0 && c.chunk.maxTs > latest) latest = c.chunk.maxTs;
    let newest: Entry | undefined;
    for (const c of this.chunks) {
      if (c.chunk.entries === 0 || c.chunk.maxTs !== latest) continue;
      for (const e of c.chunk.allEntries()) if (!newest || e.timestamp >= newest.timestamp) newest = e;
    }
    this.newestIsLastAppended = false;
    if (!newest) {
      this.newestSeconds = Number.NEGATIVE_INFINITY;
      this.newestNanos = 0;
      this.lastLineLength = 0;
      return;
    }
    this.newestSeconds = secondsOf(newest.timestamp);
    this.newestNanos = nanosPartOf(newest.timestamp);
    const line = Buffer.from(newest.line);
    if (this.lastLine.length < line.length) this.lastLine = Buffer.allocUnsafe(line.length);
    this.lastLineLength = line.copy(this.lastLine, 0);
  }

  /**
   * Point-in-time copies of the in-memory chunks with entries in [from, through), as plain data (see
   * MemChunk.snapshot), each with the time range it had when taken: the merge orders chunks by it, and an
   * open chunk may take later (or late) entries meanwhile.
   */
  chunkSnapshots(from: bigint, through: bigint): MemoryChunkSnapshot[] {
    const out: MemoryChunkSnapshot[] = [];
    for (const c of this.chunks) {
      const chunk = c.chunk;
      const { minTs, maxTs } = chunk;
      if (chunk.entries === 0 || maxTs < from || minTs >= through) continue;
      out.push({ minTs, maxTs, chunk: chunk.snapshot() });
    }
    return out;
  }

  /** Chunks, entries and line bytes of the in-memory chunks overlapping [from, through]. */
  chunkStats(from: bigint, through: bigint): { chunks: number; entries: number; bytes: number } {
    const stats = { chunks: 0, entries: 0, bytes: 0 };
    for (const c of this.chunks) {
      if (c.chunk.entries === 0 || c.chunk.minTs > through || c.chunk.maxTs < from) continue;
      stats.chunks++;
      stats.entries += c.chunk.entries;
      stats.bytes += c.chunk.lineBytes;
    }
    return stats;
  }
}

/** [0, 1, ..., n-1]: the entries stored before the first one that was not. */
function firstIndices(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k);
}

export function streamRateLimited(limit: number, labels: string, bytes: number): LokiError {
  return new LokiError(
    'rate_limited',
    'per_stream_rate_limit',
    `Per stream rate limit exceeded (limit: ${formatBytes(limit)}/sec) while attempting to ingest for stream '${labels}' totaling ${formatBytes(bytes)}, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased`,
  );
}
