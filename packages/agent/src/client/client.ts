import { type Label, type Logger, PushRequestBuilder, snappyCompress } from '@loki-lite/shared';
import type { ClientConfig } from '../config/schema.js';
import type { AgentMetrics } from '../metrics.js';
import type { FileProgress } from '../tail/progress.js';
import { HttpPoster } from './http-post.js';
import type { QueueBudget } from './queue-budget.js';
import type { StreamLabels } from './stream-labels.js';

/*
 * One push endpoint. Entries are encoded into the open batch as they are read; a batch is sealed (encoded,
 * snappy-compressed) when it reaches `batchsize` or `batchwait` after its first entry, and sealed batches
 * are sent one at a time, in order, so acknowledgements arrive in file order and positions only move
 * forward. 429, 5xx and network errors are retried with jittered exponential backoff for as long as it
 * takes (an outage must not lose lines); other 4xx answers drop the batch with a reason metric, as Promtail
 * does, because sending it again cannot succeed.
 */

const NS_PER_MS = 1_000_000n;

/** Which files a batch's entries came from: entry counts and the resume offset after its last entry. */
class BatchFiles {
  files: FileProgress[] = [];
  counts: number[] = [];
  offsets: number[] = [];
  private last = -1;

  add(file: FileProgress, resumeOffset: number): void {
    let i = this.last;
    if (i < 0 || this.files[i] !== file) {
      i = this.files.indexOf(file);
      if (i < 0) {
        i = this.files.length;
        this.files.push(file);
        this.counts.push(0);
        this.offsets.push(resumeOffset);
      }
      this.last = i;
    }
    this.counts[i]!++;
    this.offsets[i] = resumeOffset;
  }
}

interface SealedBatch {
  readonly body: Buffer;
  readonly entries: number;
  readonly lineBytes: number;
  readonly files: BatchFiles;
}

export interface ClientDeps {
  readonly index: number;
  readonly config: ClientConfig;
  readonly budget: QueueBudget;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  readonly userAgent: string;
  /**
   * Called after a batch is acknowledged or dropped, with the files whose positions moved; the next batch
   * is sent once the returned promise resolves (the positions are saved).
   */
  readonly onSettled: (files: readonly FileProgress[]) => Promise<void>;
  readonly random?: () => number;
}

export class LokiClient {
  readonly host: string;
  /** This client's queue: its reading of the files stops while it is full, not the other clients'. */
  readonly budget: QueueBudget;
  private readonly external: ReadonlyMap<string, string>;
  private readonly builder = new PushRequestBuilder();
  private open = new BatchFiles();
  private openLineBytes = 0;
  private readonly sealed: SealedBatch[] = [];
  private sealTimer: NodeJS.Timeout | undefined;
  private sending = false;
  private stopped = false;
  private readonly poster: HttpPoster;
  private idleWaiters: Array<() => void> = [];
  private retryWake: (() => void) | undefined;

  constructor(private readonly deps: ClientDeps) {
    this.host = new URL(deps.config.url).host;
    this.budget = deps.budget;
    this.external = new Map(Object.entries(deps.config.external_labels));
    this.poster = new HttpPoster(deps.config, deps.userAgent);
  }

  /** Adds one entry to the open batch. `resumeOffset` is where its file resumes once this entry is acknowledged. */
  add(
    stream: StreamLabels,
    seconds: number,
    nanos: number,
    line: Uint8Array,
    start: number,
    end: number,
    metadata: readonly Label[] | undefined,
    file: FileProgress,
    resumeOffset: number,
  ): void {
    const c = this.deps.index;
    this.builder.add(stream.printedFor(c, this.external), seconds, nanos, line, start, end, metadata);
    this.open.add(file, resumeOffset);
    file.pending[c]!++;
    this.openLineBytes += end - start;
    this.budget.take(end - start);
    if (this.builder.size >= this.deps.config.batchsize) this.seal();
    else this.sealTimer ??= setTimeout(() => this.seal(), Number(this.deps.config.batchwait / NS_PER_MS));
  }

  /** Seals the open batch and starts sending if idle. */
  seal(): void {
    if (this.sealTimer) clearTimeout(this.sealTimer);
    this.sealTimer = undefined;
    if (this.builder.entries === 0) return;
    this.sealed.push({ body: snappyCompress(this.builder.finish()), entries: this.builder.entries, lineBytes: this.openLineBytes, files: this.open });
    this.builder.reset();
    this.open = new BatchFiles();
    this.openLineBytes = 0;
    if (!this.sending) void this.sendAll();
  }

  /** Resolves when everything added so far is acknowledged or dropped. */
  async drain(): Promise<void> {
    this.seal();
    if (!this.sending && this.sealed.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending (what is unsent stays unacknowledged, so it is read again after a restart). */
  stop(): void {
    this.stopped = true;
    if (this.sealTimer) clearTimeout(this.sealTimer);
    this.retryWake?.();
    this.poster.close();
  }

  private async sendAll(): Promise<void> {
    this.sending = true;
    while (this.sealed.length > 0 && !this.stopped) {
      const batch = this.sealed[0]!;
      const outcome = await this.deliver(batch);
      if (outcome === 'stopped') break;
      this.sealed.shift();
      await this.settle(batch, outcome);
    }
    this.sending = false;
    if (this.sealed.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Sends until the batch is acknowledged, or dropped for a reason. */
  private async deliver(batch: SealedBatch): Promise<'sent' | { dropped: string } | 'stopped'> {
    const { config, metrics, log } = this.deps;
    const backoff = config.backoff_config;
    let delayMs = Number(backoff.min_period / NS_PER_MS);
    const maxMs = Number(backoff.max_period / NS_PER_MS);
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return 'stopped';
      const started = performance.now();
      let status = 0;
      let problem: string;
      try {
        const res = await this.poster.post(batch.body, config.tenant_id);
        status = res.status;
        metrics.requestDuration.observe({ host: this.host, status_code: String(status) }, (performance.now() - started) / 1000);
        if (status >= 200 && status < 300) return 'sent';
        problem = `server returned HTTP status ${status}: ${res.body.trim()}`;
        if (status === 429 && config.drop_rate_limited_batches) return { dropped: 'rate_limited' };
        if (status !== 429 && status < 500) {
          log.error(`client ${this.host}: dropping a batch of ${batch.entries} entries: ${problem}`);
          return { dropped: status === 400 ? 'invalid' : `http_${status}` };
        }
      } catch (e) {
        metrics.requestDuration.observe({ host: this.host, status_code: 'error' }, (performance.now() - started) / 1000);
        problem = (e as Error).message;
      }
      metrics.retries.inc({ host: this.host });
      const wait = delayMs / 2 + (this.deps.random ?? Math.random)() * (delayMs / 2);
      const note = attempt + 1 >= backoff.max_retries && backoff.max_retries > 0 ? ' (past max_retries: the agent keeps trying rather than lose lines)' : '';
      log.warn(`client ${this.host}: push failed, retrying in ${Math.round(wait)} ms${note}: ${problem}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.retryWake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.retryWake = undefined;
      delayMs = Math.min(delayMs * 2, maxMs);
    }
  }

  private settle(batch: SealedBatch, outcome: 'sent' | { dropped: string }): Promise<void> {
    const { metrics } = this.deps;
    const budget = this.budget;
    const c = this.deps.index;
    if (outcome === 'sent') {
      metrics.sentEntries.inc({ host: this.host }, batch.entries);
      metrics.sentBytes.inc({ host: this.host }, batch.lineBytes);
    } else {
      metrics.droppedEntries.inc({ host: this.host, reason: outcome.dropped }, batch.entries);
      metrics.droppedBytes.inc({ host: this.host, reason: outcome.dropped }, batch.lineBytes);
    }
    const { files, counts, offsets } = batch.files;
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      f.pending[c]! -= counts[i]!;
      if (offsets[i]! > f.acked[c]!) f.acked[c] = offsets[i]!;
    }
    budget.give(batch.lineBytes);
    return this.deps.onSettled(files);
  }
}
