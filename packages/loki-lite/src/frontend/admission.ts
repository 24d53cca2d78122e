import { LokiError } from '@loki-lite/shared';
import { raceAbort } from '../util/abort.js';

/*
 * Admission control for queries, as Loki's query-scheduler and querier workers do it in one process:
 * at most `maxConcurrent` queries run at once (querier.max_concurrent); the others wait in a FIFO queue per
 * tenant, and a freed slot goes to the tenants in turn (round robin, like the scheduler's tenant queues),
 * so one tenant's burst cannot starve another. A tenant that already has
 * `maxOutstandingPerTenant` queries waiting (query_scheduler.max_outstanding_requests_per_tenant) is
 * refused with Loki's 429.
 *
 * Facts from grafana/loki:
 * - pkg/scheduler/queue/queue.go: Enqueue refuses with ErrTooManyRequests, text "too many outstanding
 *   requests", once the tenant's queue length would exceed the limit; the length counts waiting requests
 *   only (Dequeue decrements it when a querier takes one).
 * - pkg/lokifrontend/frontend/v2 (frontend_scheduler_worker.go): the scheduler's TOO_MANY_REQUESTS_PER_TENANT
 *   becomes an HTTP 429 whose body is that same text.
 */

/** Loki's answer when a tenant has too many queries waiting (status 429). */
export const TOO_MANY_OUTSTANDING_REQUESTS = 'too many outstanding requests';

export interface AdmissionLimits {
  /** Queries running at once in this process (querier.max_concurrent, at least 1). */
  readonly maxConcurrent: number;
  /** Queries of one tenant allowed to wait (query_scheduler.max_outstanding_requests_per_tenant). */
  readonly maxOutstandingPerTenant: number;
}

/** Hooks for the queue metrics (cortex_query_scheduler_*), so this file needs no metrics library. */
export interface AdmissionObserver {
  queueLength(tenant: string, length: number): void;
  discarded(tenant: string): void;
}

interface Waiter {
  readonly tenant: string;
  readonly start: () => void;
}

export class Admission {
  private running = 0;
  private abandoned = 0;
  /**
   * Waiting queries per tenant. A Map iterates in insertion order: the tenant served last is moved to the
   * end, which makes the order of its keys the round robin.
   */
  private readonly queues = new Map<string, Waiter[]>();

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly observer?: AdmissionObserver,
  ) {
    if (!(limits.maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be at least 1');
  }

  /** Queries running now. */
  get active(): number {
    return this.running;
  }

  /** Running queries whose answer was already given up (aborted) and whose work has not stopped yet. */
  get stopping(): number {
    return this.abandoned;
  }

  /** Queries of `tenant` waiting for a slot. */
  queued(tenant: string): number {
    return this.queues.get(tenant)?.length ?? 0;
  }

  /**
   * Runs `work` once a slot is free. The answer rejects with `signal.reason` as soon as the signal aborts,
   * whether the query is still waiting (it leaves the queue at once) or running (without waiting for the
   * work to notice). The slot itself is held until `work` settles, so that no more than maxConcurrent
   * queries ever use the CPU and the store at once; work that is told to stop by the signal ends soon.
   */
  async run<T>(tenant: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    await this.acquire(tenant, signal);
    if (signal.aborted) {
      // Aborted in the moment between being given the slot and starting: hand the slot on at once.
      this.release();
      throw signal.reason;
    }
    let givenUp = false;
    const onAbort = () => {
      givenUp = true;
      this.abandoned++;
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = settleThenRelease(work, () => {
      signal.removeEventListener('abort', onAbort);
      if (givenUp) this.abandoned--;
      this.release();
    });
    return raceAbort(done, signal);
  }

  private acquire(tenant: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.running < this.limits.maxConcurrent && this.queues.size === 0) {
      this.running++;
      return Promise.resolve();
    }
    const queue = this.queues.get(tenant) ?? [];
    if (queue.length >= this.limits.maxOutstandingPerTenant) {
      this.observer?.discarded(tenant);
      return Promise.reject(new LokiError('rate_limited', 'too_many_outstanding_requests', TOO_MANY_OUTSTANDING_REQUESTS));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.remove(waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        tenant,
        start: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      if (queue.length === 1) this.queues.set(tenant, queue);
      this.observer?.queueLength(tenant, queue.length);
    });
  }

  private release(): void {
    this.running--;
    while (this.running < this.limits.maxConcurrent) {
      const next = this.dequeue();
      if (!next) return;
      this.running++;
      next.start();
    }
  }

  /** The first waiter of the tenant whose turn it is; that tenant goes to the back of the line. */
  private dequeue(): Waiter | undefined {
    const first = this.queues.entries().next();
    if (first.done) return undefined;
    const [tenant, queue] = first.value;
    const waiter = queue.shift()!;
    this.queues.delete(tenant);
    if (queue.length > 0) this.queues.set(tenant, queue);
    this.observer?.queueLength(tenant, queue.length);
    return waiter;
  }

  private remove(waiter: Waiter): void {
    const queue = this.queues.get(waiter.tenant);
    const i = queue?.indexOf(waiter) ?? -1;
    if (!queue || i < 0) return;
    queue.splice(i, 1);
    if (queue.length === 0) this.queues.delete(waiter.tenant);
    this.observer?.queueLength(waiter.tenant, queue.length);
  }
}

/** Runs `work` and calls `release` once it has settled, however it ends (a synchronous throw included). */
async function settleThenRelease<T>(work: () => Promise<T>, release: () => void): Promise<T> {
  try {
    return await work();
  } finally {
    release();
  }
}
