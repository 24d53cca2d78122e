import { type DecodedPushRequest, type Logger, LokiError } from '@loki-lite/shared';
import type { LimitsConfig } from '../config/schema.js';
import type { Limits } from '../limits/limits.js';
import type { IngestStream, WholePushBody } from '../ingester/push-request.js';
import type { Metrics } from '../metrics.js';
import { TokenBucket } from '../util/token-bucket.js';
import { type ParsedStreamLabels, withServiceName } from '../labels/service-name.js';
import { entryMetadataBytes, entryWindow, validateEntry, validateStreamLabels } from './validate.js';

/** What the distributor hands validated streams to: the ingester (the consumer owns the interface). */
export interface StreamSink {
  /**
   * `whole` is the push body as received, given only when every entry of it is in `streams` unchanged, so
   * the sink may log the body instead of re-encoding the entries.
   */
  push(tenant: string, streams: readonly IngestStream[], whole?: WholePushBody): Promise<void>;
}

/**
 * A second consumer of every valid push besides the sink, as Loki's distributor tees streams to the pattern
 * ingester: told of it without being waited for, and its failures never fail the push. Called
 * synchronously: the entries are views into the request's bytes, so a tee copies what it keeps.
 */
export interface StreamTee {
  duplicate(tenant: string, streams: readonly IngestStream[]): void;
}

export interface DistributorDeps {
  readonly limits: Limits;
  readonly sink: StreamSink;
  readonly tees?: readonly StreamTee[];
  /** Where a failing tee is told. */
  readonly log?: Logger;
  readonly metrics: Metrics;
  readonly nowMs?: () => number;
}

const MiB = 1024 * 1024;
/** Label strings whose parse is remembered; agents send the same few thousand over and over. */
const LABEL_CACHE_SIZE = 50_000;

/**
 * Validates pushes with Loki's rules, applies the tenant ingestion rate limit, and passes what is valid on.
 * Like Loki it writes the valid streams of a partly invalid request and then answers 400 with the reasons.
 */
export class Distributor {
  private readonly limiters = new Map<string, TokenBucket>();
  /**
   * Label strings' parses, per limits object: a parse holds only for the limits it was validated with, and
   * tenants without overrides share one.
   */
  private readonly labelCaches = new WeakMap<LimitsConfig, Map<string, ParsedStreamLabels>>();
  private readonly now: () => number;

  constructor(private readonly deps: DistributorDeps) {
    this.now = deps.nowMs ?? Date.now;
  }

  /**
   * Validates and hands on a push; resolves when it is durable. Not async on purpose (see Ingester.push):
   * the returned promise keeps nothing of the request alive while the WAL is written.
   */
  push(tenant: string, req: DecodedPushRequest): Promise<void> {
    try {
      return this.validateAndSend(tenant, req);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private validateAndSend(tenant: string, req: DecodedPushRequest): Promise<void> {
    const { metrics } = this.deps;
    const limits = this.deps.limits.forTenant(tenant);
    const labelCache = this.labelCacheFor(limits);
    const nowMs = this.now();
    const window = entryWindow(limits, BigInt(nowMs) * 1_000_000n);
    const errors = new Set<string>();
    const valid: IngestStream[] = [];
    let validLines = 0;
    let validBytes = 0;
    const discard = (reason: string, lines: number, bytes: number) => {
      metrics.discardedSamples.inc({ reason, tenant }, lines);
      metrics.discardedBytes.inc({ reason, tenant }, bytes);
    };

    let receivedBytes = 0;
    let receivedLines = 0;
    let metadataBytes = 0;
    for (const stream of req.streams) {
      const batch = stream.entries;
      receivedLines += batch.count;
      let parsed;
      try {
        parsed = this.parseLabels(stream.labels, limits, labelCache);
      } catch (e) {
        if (!(e instanceof LokiError)) throw e;
        let streamBytes = 0;
        for (let i = 0; i < batch.count; i++) {
          const metadata = entryMetadataBytes(batch, i);
          metadataBytes += metadata;
          streamBytes += batch.lineBytes(i) + metadata;
        }
        receivedBytes += streamBytes;
        errors.add(e.message);
        discard(e.code, batch.count, streamBytes);
        continue;
      }
      // Only when an entry is rejected is a list of the accepted ones built; usually the batch goes on whole.
      let accepted: number[] | undefined;
      for (let i = 0; i < batch.count; i++) {
        // Each entry's metadata is read once (it is decoded on each read): for the received, metadata and valid bytes.
        const metadata = entryMetadataBytes(batch, i);
        metadataBytes += metadata;
        const bytes = batch.lineBytes(i) + metadata; // as received: validation may truncate the line
        receivedBytes += bytes;
        const error = validateEntry(batch, i, parsed.labelsString, limits, window);
        if (error) {
          accepted ??= Array.from({ length: i }, (_, k) => k);
          errors.add(error.message);
          discard(error.code, 1, bytes);
          continue;
        }
        accepted?.push(i);
        validBytes += limits.max_line_size_truncate ? batch.lineBytes(i) + metadata : bytes;
      }
      const entries = accepted ? batch.select(accepted) : batch;
      if (entries.count === 0) continue;
      validLines += entries.count;
      valid.push({ labels: parsed.labels, labelsString: parsed.labelsString, entries });
    }

    metrics.bytesReceived.inc({ tenant }, receivedBytes);
    metrics.linesReceived.inc({ tenant }, receivedLines);
    // Loki's retention_hours label stays empty until per-stream retention exists.
    if (metadataBytes > 0) metrics.structuredMetadataBytesReceived.inc({ tenant, retention_hours: '' }, metadataBytes);
    const validationError = errors.size > 0 ? new LokiError('bad_data', 'validation', [...errors].join('\n')) : undefined;
    if (valid.length === 0) {
      if (validationError) throw validationError;
      return Promise.resolve();
    }
    const limiter = this.limiterFor(tenant, limits, nowMs);
    if (!limiter.allowN(nowMs, validBytes)) {
      discard('rate_limited', validLines, validBytes);
      throw new LokiError(
        'rate_limited',
        'rate_limited',
        `Ingestion rate limit exceeded for user ${tenant} (limit: ${Math.trunc(limiter.limit)} bytes/sec) while attempting to ingest '${validLines}' lines totaling '${validBytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`,
      );
    }
    const body = req.snappyProtobuf;
    const whole =
      body && !validationError && !limits.max_line_size_truncate ? { snappyProtobuf: body, serviceNameFrom: limits.discover_service_name } : undefined;
    const sent = this.deps.sink.push(tenant, valid, whole);
    for (const tee of this.deps.tees ?? []) this.duplicate(tee, tenant, valid);
    return validationError ? sent.then(() => Promise.reject(validationError)) : sent;
  }

  private duplicate(tee: StreamTee, tenant: string, streams: readonly IngestStream[]): void {
    try {
      tee.duplicate(tenant, streams);
    } catch (e) {
      this.deps.log?.warn(`distributor: a tee failed to take a push of tenant ${tenant}: ${(e as Error).message}`);
    }
  }

  private labelCacheFor(limits: LimitsConfig): Map<string, ParsedStreamLabels> {
    let cache = this.labelCaches.get(limits);
    if (!cache) this.labelCaches.set(limits, (cache = new Map()));
    return cache;
  }

  private parseLabels(raw: string, limits: LimitsConfig, cache: Map<string, ParsedStreamLabels>): ParsedStreamLabels {
    let parsed = cache.get(raw);
    if (!parsed) {
      parsed = withServiceName(validateStreamLabels(raw, limits), limits.discover_service_name);
      if (cache.size >= LABEL_CACHE_SIZE) cache.clear();
      cache.set(raw, parsed);
    }
    return parsed;
  }

  /** The tenant's bucket, at the rate and burst its limits say now (a runtime config reload may change them). */
  private limiterFor(tenant: string, limits: LimitsConfig, nowMs: number): TokenBucket {
    const { ingestion_rate_mb: rate, ingestion_burst_size_mb: burst } = limits;
    let l = this.limiters.get(tenant);
    if (!l) this.limiters.set(tenant, (l = new TokenBucket(rate * MiB, burst * MiB, nowMs)));
    else l.setLimit(rate * MiB, burst * MiB, nowMs);
    return l;
  }
}
