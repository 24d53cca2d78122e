import { formatBytes, formatRFC3339Nano, LokiError, type Labels } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';
import type { ChunkEncoding } from '../chunk/format.js';
import { MemChunk } from '../chunk/mem-chunk.js';
import type { ChunkRef } from '../index/types.js';
import { TokenBucket } from '../util/token-bucket.js';

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
  readonly encoding: ChunkEncoding;
  readonly blockSize: number;
  readonly targetSize: number;
  /** Entries older than the stream's newest minus this are rejected (Loki: max_chunk_age / 2). */
  readonly maxBehindNs: bigint;
  readonly rateLimitBytes: number;
  readonly rateBurstBytes: number;
}

export interface EntryFailure {
  readonly entry: Entry;
  readonly error: LokiError;
}

const RFC3339_SECONDS = (ns: bigint) => formatRFC3339Nano(ns - (ns % 1_000_000_000n));

/** One stream of one tenant in the ingester: its chunks, newest last, and its acceptance state. */
export class Stream {
  readonly chunks: ChunkDesc[] = [];
  private highestTs = 0n;
  private lastLineTs = -1n;
  private lastLine = '';
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
   * Appends entries, applying Loki's per-stream rules in its order: an exact duplicate of the newest entry
   * is dropped silently; then the per-stream rate limit; then the out-of-order window. Replayed entries
   * (WAL) skip the limits. Returns the stored entries and the rejected ones with their errors.
   */
  push(entries: readonly Entry[], nowMs: number, replay: boolean): { stored: Entry[]; failed: EntryFailure[] } {
    const stored: Entry[] = [];
    const failed: EntryFailure[] = [];
    for (const e of entries) {
      if (e.timestamp === this.lastLineTs && e.line === this.lastLine) continue;
      if (!replay) {
        const bytes = Buffer.byteLength(e.line);
        if (!this.limiter.allowN(nowMs, bytes)) {
          failed.push({ entry: e, error: streamRateLimited(this.settings.rateLimitBytes, this.labelsString, bytes) });
          continue;
        }
        const cutoff = this.highestTs - this.settings.maxBehindNs;
        if (this.highestTs !== 0n && e.timestamp < cutoff) {
          failed.push({
            entry: e,
            error: new LokiError('bad_data', 'too_far_behind',
              `entry too far behind, entry timestamp is: ${RFC3339_SECONDS(e.timestamp)}, oldest acceptable timestamp is: ${RFC3339_SECONDS(cutoff)}`),
          });
          continue;
        }
      }
      if (e.timestamp > this.lastLineTs) {
        this.lastLineTs = e.timestamp;
        this.lastLine = e.line;
      }
      if (e.timestamp > this.highestTs) this.highestTs = e.timestamp;
      this.append(e, nowMs);
      stored.push(e);
    }
    if (stored.length > 0) this.lastAppendMs = nowMs;
    return { stored, failed };
  }

  private append(e: Entry, nowMs: number): void {
    let head = this.chunks[this.chunks.length - 1];
    if (!head || head.state !== 'open' || head.chunk.isFull()) {
      if (head?.state === 'open') {
        head.state = 'closed';
        this.onChunkClosed(head);
      }
      head = { chunk: new MemChunk(this.settings.encoding, this.settings.blockSize, this.settings.targetSize), state: 'open', createdMs: nowMs, lastAppendMs: nowMs, flushFailures: 0, retryAtMs: 0 };
      this.chunks.push(head);
    }
    head.chunk.append(e);
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

  /** True if any chunk in memory overlaps [from, through]. */
  overlaps(from: bigint, through: bigint): boolean {
    return this.chunks.some((c) => c.chunk.entries > 0 && c.chunk.minTs <= through && c.chunk.maxTs >= from);
  }
}

export function streamRateLimited(limit: number, labels: string, bytes: number): LokiError {
  return new LokiError('rate_limited', 'per_stream_rate_limit',
    `Per stream rate limit exceeded (limit: ${formatBytes(limit)}/sec) while attempting to ingest for stream '${labels}' totaling ${formatBytes(bytes)}, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased`);
}
