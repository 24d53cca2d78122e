import { type EntryBatch, formatBytes, formatRFC3339, LokiError, type Labels } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';
import type { ChunkEncoding } from '../chunk/format.js';
import { HeadMemory, MemChunk } from '../chunk/mem-chunk.js';
import type { ChunkRef } from '../index/types.js';
import { copyBytes } from '../util/binary.js';
import { TokenBucket } from '../util/token-bucket.js';
import { type ChunkSource, oneRun } from '../querier/merge.js';

export type ChunkState = 'open' | 'closed' | 'flushing' | 'flushed';

/** A chunk of a stream with its flush bookkeeping. Kept in memory until an index file lists it. */
export interface ChunkDesc {
  readonly chunk: MemChunk;
  state: ChunkState;
  readonly createdMs: number;
  lastAppendMs: number;
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
  readonly maxBehindNs: bigint;
  readonly rateLimitBytes: number;
  readonly rateBurstBytes: number;
}

export interface EntryFailure {
  readonly timestamp: bigint;
  readonly bytes: number;
  readonly error: LokiError;
}

export interface PushOutcome {
  /** Indices of the batch's entries that were stored; undefined when all of them were. */
  readonly stored: number[] | undefined;
  readonly storedCount: number;
  readonly failed: EntryFailure[];
}

/** One stream of one tenant in the ingester: its chunks, newest last, and its acceptance state. */
export class Stream {
  readonly chunks: ChunkDesc[] = [];
  private highestTs = 0n;
  /**
   * highestTs - maxBehindNs, computed only when an entry older than highestTs arrives (BigInt arithmetic
   * allocates, and in-order entries, nearly all of them, cannot be too far behind).
   */
  private cutoff = 0n;
  private cutoffOf = -1n;
  private lastLineTs = -1n;
  private lastLine: Buffer = Buffer.alloc(0);
  private lastLineLength = 0;
  private readonly limiter: TokenBucket;
  lastAppendMs: number;

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
   * is dropped silently; then the per-stream rate limit; then the out-of-order window. Replayed entries
   * (WAL) skip the limits. Line bytes are copied from the batch; no string is made.
   */
  push(batch: EntryBatch, nowMs: number, replay: boolean): PushOutcome {
    const failed: EntryFailure[] = [];
    let stored: number[] | undefined;
    let storedCount = 0;
    const { timestamps, starts, ends, buf } = batch;
    // The newest line may be one of this batch's, referenced in place until the batch is done.
    let lastBuf = this.lastLine;
    let lastStart = 0;
    let lastEnd = this.lastLineLength;
    for (let i = 0; i < batch.count; i++) {
      const ts = timestamps[i]!;
      const start = starts[i]!;
      const end = ends[i]!;
      if (ts === this.lastLineTs && end - start === lastEnd - lastStart && buf.compare(lastBuf, lastStart, lastEnd, start, end) === 0) {
        stored ??= firstIndices(i);
        continue;
      }
      if (!replay) {
        const bytes = end - start;
        if (!this.limiter.allowN(nowMs, bytes)) {
          stored ??= firstIndices(i);
          failed.push({ timestamp: ts, bytes, error: streamRateLimited(this.settings.rateLimitBytes, this.labelsString, bytes) });
          continue;
        }
        if (ts < this.highestTs && this.highestTs !== 0n && ts < this.oldestAcceptable()) {
          stored ??= firstIndices(i);
          failed.push({
            timestamp: ts,
            bytes,
            error: new LokiError('bad_data', 'too_far_behind',
              `entry too far behind, entry timestamp is: ${formatRFC3339(ts)}, oldest acceptable timestamp is: ${formatRFC3339(this.cutoff)}`),
          });
          continue;
        }
      }
      if (ts > this.lastLineTs) {
        this.lastLineTs = ts;
        lastBuf = buf;
        lastStart = start;
        lastEnd = end;
      }
      if (ts > this.highestTs) this.highestTs = ts;
      this.append(ts, batch, i, nowMs);
      stored?.push(i);
      storedCount++;
    }
    if (lastBuf !== this.lastLine) this.rememberLastLine(lastBuf, lastStart, lastEnd);
    if (storedCount > 0) this.lastAppendMs = nowMs;
    return { stored, storedCount, failed };
  }

  private oldestAcceptable(): bigint {
    if (this.cutoffOf !== this.highestTs) {
      this.cutoff = this.highestTs - this.settings.maxBehindNs;
      this.cutoffOf = this.highestTs;
    }
    return this.cutoff;
  }

  /** Copies the newest line into the stream's own buffer, so no push body stays referenced. */
  private rememberLastLine(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.lastLine.length < n) this.lastLine = Buffer.allocUnsafe(Math.max(n, this.lastLine.length * 2, 64));
    copyBytes(src, start, end, this.lastLine, 0);
    this.lastLineLength = n;
  }

  private append(ts: bigint, batch: EntryBatch, i: number, nowMs: number): void {
    let head = this.chunks[this.chunks.length - 1];
    if (!head || head.state !== 'open' || head.chunk.isFull()) {
      const full = head?.state === 'open';
      if (head && full) {
        head.state = 'closed';
        this.onChunkClosed(head);
      }
      const chunk = new MemChunk(this.settings.encoding, this.settings.blockSize, this.settings.targetSize, full, this.settings.headMemory);
      head = { chunk, state: 'open', createdMs: nowMs, lastAppendMs: nowMs, flushFailures: 0, retryAtMs: 0 };
      this.chunks.push(head);
    }
    head.chunk.appendRaw(ts, batch.buf, batch.starts[i]!, batch.ends[i]!, batch.structuredMetadata(i));
    head.lastAppendMs = nowMs;
  }

  /** The open chunk, closed so it can be flushed (on age, idleness, or a forced flush). */
  closeOpenChunk(): ChunkDesc | undefined {
    const head = this.chunks[this.chunks.length - 1];
    if (head?.state !== 'open') return undefined;
    head.state = 'closed';
    return head;
  }

  /** Every entry held in memory in [from, through), in timestamp order. */
  entriesInRange(from: bigint, through: bigint): Entry[] {
    if (this.chunks.length === 1) return this.chunks[0]!.chunk.entriesInRange(from, through);
    const parts = this.chunks.map((c) => c.chunk.entriesInRange(from, through)).filter((p) => p.length > 0);
    if (parts.length <= 1) return parts[0] ?? [];
    const all = parts.flat();
    // stable: entries with equal timestamps keep chunk order (arrival order)
    return all.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  }

  /** The in-memory chunks with entries in [from, through), each read when the querier's merge reaches it. */
  chunkSources(from: bigint, through: bigint): ChunkSource[] {
    const out: ChunkSource[] = [];
    for (const c of this.chunks) {
      const chunk = c.chunk;
      if (chunk.entries === 0 || chunk.maxTs < from || chunk.minTs >= through) continue;
      out.push({ minTs: chunk.minTs, maxTs: chunk.maxTs, remote: false, load: () => Promise.resolve(oneRun(chunk.entriesInRange(from, through))) });
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

  /** True if any chunk in memory overlaps [from, through]. */
  overlaps(from: bigint, through: bigint): boolean {
    return this.chunks.some((c) => c.chunk.entries > 0 && c.chunk.minTs <= through && c.chunk.maxTs >= from);
  }
}

/** [0, 1, ..., n-1]: the entries stored before the first one that was not. */
function firstIndices(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k);
}

export function streamRateLimited(limit: number, labels: string, bytes: number): LokiError {
  return new LokiError('rate_limited', 'per_stream_rate_limit',
    `Per stream rate limit exceeded (limit: ${formatBytes(limit)}/sec) while attempting to ingest for stream '${labels}' totaling ${formatBytes(bytes)}, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased`);
}
