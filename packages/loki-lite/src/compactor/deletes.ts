import type { Logger } from '@loki-lite/shared';
import type { DeletionMode } from '../config/schema.js';
import { applyDeletes, requestsDue } from '../deletion/apply.js';
import type { DeleteRequest } from '../deletion/request.js';
import type { DeleteRequestStore } from '../deletion/store.js';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import type { Metrics } from '../metrics.js';
import { PERIOD_NS } from '../storage/keys.js';
import type { IndexTable, LogStore } from '../storage/log-store.js';
import type { RetentionLimits } from './retention/expiration.js';
import type { TableDeletes } from './table.js';

export interface CompactorDeletesOptions {
  readonly requests: DeleteRequestStore;
  readonly store: LogStore;
  readonly modeOf: (tenant: string) => DeletionMode;
  /** The tenants' retention: a request wholly older than the longest is processed without work. */
  readonly retention: RetentionLimits;
  /** compactor.delete_request_cancel_period, ns. */
  readonly cancelPeriod: bigint;
  /** compactor.delete_batch_size: pieces one retention run takes. */
  readonly batchSize: number;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Unix ms (tests inject a clock). */
  readonly now?: () => number;
}

/**
 * Loki's DeleteRequestsManager for the compactor: at the start of a retention run it loads the pieces due
 * (past the cancel period, filter-and-delete mode, at most delete_batch_size), applies them to every table
 * the run compacts, and when the whole run succeeded marks them processed. A run that failed or stopped
 * half way marks nothing: the next run applies the same pieces again, which finds the chunks already gone
 * or rewritten (a rewritten chunk has no matching line left, so it stays as it is).
 */
export class CompactorDeletes implements TableDeletes {
  private readonly now: () => number;
  /** The batch of the run under way (Loki's currentBatch). */
  private batch: DeleteRequest[] = [];

  constructor(private readonly opts: CompactorDeletesOptions) {
    this.now = opts.now ?? Date.now;
  }

  async runStarted(): Promise<void> {
    const { metrics, log } = this.opts;
    this.batch = [];
    let due: DeleteRequest[];
    try {
      due = await this.pendingPieces();
      metrics.loadPendingRequestsAttempts.inc({ status: 'success' });
    } catch (e) {
      metrics.loadPendingRequestsAttempts.inc({ status: 'fail' });
      log.fields('error', [
        ['msg', 'failed to load delete requests to process'],
        ['err', (e as Error).message],
      ]);
      return;
    }
    const { expired, live } = this.splitByRetention(due);
    for (const piece of expired) {
      log.fields('info', [
        ['msg', 'Marking delete request with interval beyond retention period as processed'],
        ['delete_request_id', piece.requestId],
        ['user', piece.tenant],
      ]);
      await this.markProcessed(piece);
    }
    due = live;
    this.updatePendingMetrics(due);
    this.batch = due.slice(0, this.opts.batchSize);
    if (this.batch.length < due.length) {
      log.info(`Processing ${this.batch.length} of ${due.length} delete requests. More requests will be processed in subsequent compactions`);
    }
    for (const p of this.batch) {
      log.fields('info', [
        ['msg', 'Started processing delete request for user'],
        ['delete_request_id', p.requestId],
        ['user', p.tenant],
      ]);
    }
  }

  async apply(table: IndexTable, series: readonly SeriesChunks[]): Promise<{ series: SeriesChunks[]; deletedChunks: ChunkRef[] }> {
    const pieces = this.batch.filter((p) => p.tenant === table.tenant);
    if (pieces.length === 0) return { series: [...series], deletedChunks: [] };
    const outcome = await applyDeletes(table.tenant, series, pieces, this.opts.store);
    this.opts.metrics.deletedLines.inc({ user: table.tenant }, outcome.deletedLines);
    return { series: withoutNewRefsOutside(table, outcome.series, outcome.written), deletedChunks: outcome.removed };
  }

  /**
   * After the run: with every table done, each piece of the batch is processed (Loki's MarkPhaseFinished);
   * else nothing is, and the next run takes the batch again.
   */
  async runFinished(complete: boolean): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    if (!complete) return;
    const left = new Set(batch.map(key));
    for (const piece of batch) if (await this.markProcessed(piece)) left.delete(key(piece));
    if (batch.length > 0) this.updatePendingMetrics(await this.pendingPieces().catch(() => batch.filter((p) => left.has(key(p)))));
  }

  /** Loki's markRequestAsProcessed: a failure is logged, and the piece is done again by a later run. */
  private async markProcessed(piece: DeleteRequest): Promise<boolean> {
    const { requests, metrics, log } = this.opts;
    const fields: Array<[string, string | number]> = [
      ['delete_request_id', piece.requestId],
      ['sequence_num', piece.seq],
      ['user', piece.tenant],
    ];
    try {
      await requests.markProcessed(piece);
    } catch (e) {
      log.fields('error', [['msg', 'failed to mark delete request for user as processed'], ...fields, ['err', (e as Error).message]]);
      return false;
    }
    metrics.deleteRequestsProcessed.inc({ user: piece.tenant });
    log.fields('info', [['msg', 'delete request for user marked as processed'], ...fields]);
    return true;
  }

  /**
   * Pieces whose start and end are both older than the tenant's longest retention (its retention_period
   * and stream periods; 0 anywhere is for ever) have nothing left to delete (Loki's getMaxRetentionInterval).
   */
  private splitByRetention(due: readonly DeleteRequest[]): { expired: DeleteRequest[]; live: DeleteRequest[] } {
    const expired: DeleteRequest[] = [];
    const live: DeleteRequest[] = [];
    for (const piece of due) {
      const longest = longestRetentionMs(this.opts.retention, piece.tenant);
      const oldestKept = this.now() - longest;
      (longest > 0 && piece.startMs < oldestKept && piece.endMs < oldestKept ? expired : live).push(piece);
    }
    return { expired, live };
  }

  /** Every piece past its cancel period that storage still holds, oldest range first. */
  private async pendingPieces(): Promise<DeleteRequest[]> {
    const pieces: DeleteRequest[] = [];
    for (const tenant of await this.opts.requests.tenants()) pieces.push(...(await this.opts.requests.forTenant(tenant)));
    return requestsDue(pieces, { nowMs: this.now(), cancelPeriodMs: Number(this.opts.cancelPeriod / 1_000_000n), modeOf: this.opts.modeOf });
  }

  /** Loki's pending count and the age of the oldest since its cancel period ended, in whole seconds. */
  private updatePendingMetrics(pending: readonly DeleteRequest[]): void {
    const { metrics, cancelPeriod } = this.opts;
    metrics.pendingDeleteRequests.set(pending.length);
    const oldest = Math.min(...pending.map((p) => p.createdAtMs));
    const ageMs = pending.length === 0 ? 0 : this.now() - (oldest + Number(cancelPeriod / 1_000_000n));
    metrics.oldestPendingDeleteRequestAge.set(Math.max(0, Math.trunc(ageMs / 1000)));
  }
}

/** The longest time (ms) any of the tenant's data is kept; 0 is for ever. */
function longestRetentionMs(limits: RetentionLimits, tenant: string): number {
  const { retention_period: period, retention_stream: streams } = limits.forTenant(tenant);
  if (period === 0n || streams.some((s) => s.period === 0n)) return 0;
  const longest = streams.reduce((max, s) => (s.period > max ? s.period : max), period);
  return Number(longest / 1_000_000n);
}

const key = (p: DeleteRequest) => `${p.tenant}/${p.requestId}/${p.seq}`;

/**
 * A rewritten chunk holds fewer lines and may no longer reach into a table that listed the original (one
 * that spanned midnight): such a table drops the ref instead of listing the new chunk, so a chunk is listed
 * only by the tables its time range overlaps, which is what the sweeper reads before it deletes a chunk.
 */
function withoutNewRefsOutside(table: IndexTable, series: readonly SeriesChunks[], written: readonly ChunkRef[]): SeriesChunks[] {
  const start = BigInt(table.period) * PERIOD_NS;
  const end = start + PERIOD_NS - 1n;
  const outside = new Set(written.filter((c) => c.from > end || c.through < start));
  if (outside.size === 0) return [...series];
  return series.map((s) => ({ ...s, chunks: s.chunks.filter((c) => !outside.has(c)) }));
}
