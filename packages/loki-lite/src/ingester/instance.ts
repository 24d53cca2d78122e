import { fingerprint as fingerprintOf, type LabelMatcher, type Labels, LokiError, matchesAll } from '@loki-lite/shared';
import type { LimitsConfig } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import { failedEntriesError } from './errors.js';
import type { IngestStream } from './push-request.js';
import { type ChunkDesc, PushOutcome, Stream, type StreamSettings } from './stream.js';
import type { WalStream } from './wal/record.js';

/** What every tenant's instance shares: one set of settings, metrics and limits for the whole ingester. */
export interface InstanceDeps {
  readonly settings: StreamSettings;
  readonly metrics: Metrics;
  /** The active-stream limit (see maxStreamsPerTenant). */
  readonly maxStreams: number;
  readonly maxReturnedStreamErrors: number;
  /** operational_config.log_duplicate_metrics: count the bytes of entries dropped as duplicates. */
  readonly logDuplicateMetrics: boolean;
  /** Filled again for each stream pushed, not made each time (see PushOutcome). */
  readonly outcome: PushOutcome;
  /** Told of each chunk a stream closes because it is full, so it can be queued for flushing. */
  readonly onChunkFull: (tenant: string, stream: Stream, desc: ChunkDesc) => void;
}

/** What a push stored, so its WAL record can hold exactly that, and the error to answer it with. */
export interface StoredPush {
  /** The entries stored, stream by stream; undefined while the whole body can be logged instead. */
  readonly listed: WalStream[] | undefined;
  /** Every entry of the push was stored. */
  readonly storedAll: boolean;
  /** At least one entry was stored. */
  readonly storedAny: boolean;
  /** Loki's error for the last stream that had entries refused, or the last one refused whole. */
  readonly error: LokiError | undefined;
}

/**
 * Loki's local limit on active streams: max_streams_per_user, and max_global_streams_per_user shared by
 * the ingesters (one here, replication factor 1); 0 disables either.
 */
export function maxStreamsPerTenant(limits: LimitsConfig): number {
  const { max_streams_per_user: local, max_global_streams_per_user: global } = limits;
  const set = [local, global].filter((n) => n > 0);
  return set.length > 0 ? Math.min(...set) : Infinity;
}

/**
 * One tenant's streams in memory, as Loki's per-tenant instance: it creates streams within the tenant's
 * active-stream limit, stores pushes in them, answers which match a selector, and forgets idle empty ones.
 */
export class TenantInstance {
  /** By label string, in creation order (the flush sweep and checkpoints walk them in that order). */
  readonly streams = new Map<string, Stream>();

  constructor(
    readonly tenant: string,
    private deps: InstanceDeps,
  ) {}

  /** The tenant's limits changed (a runtime config reload): the stream limit and new streams follow them. */
  useDeps(deps: InstanceDeps): void {
    this.deps = deps;
  }

  /**
   * Stores the streams' entries. `whole`: the push came as a body the WAL may log as received, which it
   * can while every entry so far was stored; from the first entry that was not (a repeat, or refused) on,
   * the stored entries are listed instead. Either way the record holds exactly what this push stored, so
   * when its write fails those entries can be taken back by content.
   */
  push(streams: readonly IngestStream[], now: number, whole: boolean): StoredPush {
    const { metrics, outcome } = this.deps;
    let listed: WalStream[] | undefined = whole ? undefined : [];
    let storedAll = true;
    let storedAny = false;
    let error: LokiError | undefined;
    for (let j = 0; j < streams.length; j++) {
      const s = streams[j]!;
      const stream = this.streamFor(s.labels, s.labelsString, now, false);
      if (!stream) {
        error = this.streamLimitError(s);
        storedAll = false;
        listed ??= storedWhole(streams, j);
        continue;
      }
      const { stored, storedCount, failed } = stream.push(s.entries, now, false, outcome);
      if (stored) {
        storedAll = false;
        listed ??= storedWhole(streams, j);
      }
      if (failed.length > 0) {
        error = failedEntriesError(this.tenant, stream.labelsString, failed, s.entries.count, this.deps.maxReturnedStreamErrors);
        for (const f of failed) {
          metrics.discardedSamples.inc({ reason: f.error.code, tenant: this.tenant });
          metrics.discardedBytes.inc({ reason: f.error.code, tenant: this.tenant }, f.bytes);
        }
      }
      if (storedCount > 0) {
        storedAny = true;
        listed?.push({ labels: stream.labelsString, entries: stored ? s.entries.select(stored) : s.entries });
      }
    }
    return { listed, storedAll, storedAny, error };
  }

  /**
   * The stream for these labels, created if needed; undefined at the active-stream limit. WAL replay
   * (`replay`) is never refused: those entries were acknowledged before the restart.
   */
  streamFor(labels: Labels, labelsString: string, now: number, replay: boolean): Stream | undefined {
    const existing = this.streams.get(labelsString);
    if (existing) return existing;
    if (!replay && this.streams.size >= this.deps.maxStreams) return undefined;
    const { metrics, settings, onChunkFull } = this.deps;
    const tenant = this.tenant;
    const created = new Stream(labels, labelsString, fingerprintOf(labels), settings, now, (desc) => onChunkFull(tenant, created, desc));
    if (this.deps.logDuplicateMetrics) created.onDuplicate = (bytes) => metrics.duplicateLogBytes.inc({ tenant }, bytes);
    this.streams.set(labelsString, created);
    metrics.memoryStreams.inc({ tenant });
    metrics.streamsCreated.inc({ tenant });
    return created;
  }

  private streamLimitError(s: IngestStream): LokiError {
    let bytes = 0;
    for (let i = 0; i < s.entries.count; i++) bytes += s.entries.lineBytes(i);
    this.deps.metrics.discardedSamples.inc({ reason: 'stream_limit', tenant: this.tenant }, s.entries.count);
    this.deps.metrics.discardedBytes.inc({ reason: 'stream_limit', tenant: this.tenant }, bytes);
    return new LokiError(
      'rate_limited',
      'stream_limit',
      `Maximum active stream limit exceeded when trying to create stream ${s.labelsString}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '${this.tenant}'`,
    );
  }

  /** The streams whose labels match every matcher. */
  matching(matchers: readonly LabelMatcher[]): Stream[] {
    const out: Stream[] = [];
    for (const s of this.streams.values()) {
      if (matchesAll(matchers, s.labels)) out.push(s);
    }
    return out;
  }

  /**
   * Forgets streams with no chunk left in memory and no append for `idleMs`; a later push of their labels
   * makes a new one.
   */
  dropIdleEmptyStreams(now: number, idleMs: number): void {
    const { metrics } = this.deps;
    for (const [key, stream] of this.streams) {
      if (stream.chunks.length === 0 && now - stream.lastAppendMs >= idleMs) {
        this.streams.delete(key);
        metrics.memoryStreams.dec({ tenant: this.tenant });
        metrics.streamsRemoved.inc({ tenant: this.tenant });
      }
    }
  }

  /** Chunks held in memory: open, or waiting to be flushed or indexed. */
  chunkCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.chunks.length;
    return n;
  }
}

/** The first `count` streams as WAL streams: each was stored whole. */
function storedWhole(streams: readonly IngestStream[], count: number): WalStream[] {
  return streams.slice(0, count).map((s) => ({ labels: s.labelsString, entries: s.entries }));
}
