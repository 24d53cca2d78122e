import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LokiError } from '@loki-lite/shared';
import type { LogStore } from '../../storage/log-store.js';
import { startUnlessAborted } from '../../util/abort.js';
import type { ShardRunner } from '../runner.js';
import type { ShardResult, ShardTask } from '../shard.js';
import { type FromPool, fromWire, type ToPool, wireError } from './protocol.js';

/*
 * Query shards run on a fixed set of worker threads, so a heavy query uses every core and never holds the
 * server's event loop, where pushes are taken. See README.md beside this file for the design and the
 * measurements behind it.
 */

interface Job {
  readonly id: number;
  readonly task: ShardTask;
  readonly deadlineMs: number | undefined;
  /** Shared with the worker: set when the query stops. */
  readonly stop: Int32Array;
  readonly resolve: (r: ShardResult) => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
  settled: boolean;
}

interface PoolThread {
  readonly thread: Worker;
  /** The job it runs; a canceled job stays here until the worker notices and answers. */
  job: Job | undefined;
}

export class WorkerPool implements ShardRunner {
  private readonly threads: PoolThread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly store: LogStore,
    /** Worker threads at most; they start when the first shards arrive. */
    readonly size: number,
    private readonly onWorkerFailure: (message: string) => void = () => {},
    /** The threads' script: shard-worker.js; a test gives a stand-in. */
    private readonly script: URL = workerScript(),
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`a worker pool needs at least one thread, not ${size}`);
  }

  run(task: ShardTask, stop: { readonly signal: AbortSignal; readonly deadlineMs: number | undefined }): Promise<ShardResult> {
    if (this.closed) return Promise.reject(new LokiError('unavailable', 'shutting_down', 'the querier is shutting down'));
    if (stop.signal.aborted) return Promise.reject(stop.signal.reason);
    return new Promise<ShardResult>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        task,
        deadlineMs: stop.deadlineMs,
        stop: new Int32Array(new SharedArrayBuffer(4)),
        resolve,
        reject,
        signal: stop.signal,
        onAbort: () => this.abort(job),
        settled: false,
      };
      stop.signal.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Threads running a shard now (for tests and metrics). */
  busyThreads(): number {
    return this.threads.filter((t) => t.job !== undefined).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new LokiError('unavailable', 'shutting_down', 'the querier is shutting down'));
    await Promise.all(
      this.threads.splice(0).map(async (t) => {
        if (t.job) this.settle(t.job, new LokiError('unavailable', 'shutting_down', 'the querier is shutting down'));
        await t.thread.terminate();
      }),
    );
  }

  /** The query stopped: a queued shard leaves the queue, a running one is told to stop; both reject now. */
  private abort(job: Job): void {
    Atomics.store(job.stop, 0, 1);
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.settle(job, job.signal.reason);
  }

  private settle(job: Job, error: unknown, result?: ShardResult): void {
    if (job.settled) return;
    job.settled = true;
    job.signal.removeEventListener('abort', job.onAbort);
    if (error === undefined) job.resolve(result!);
    else job.reject(error);
  }

  /** Starts queued shards on idle threads, starting threads up to the pool's size. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let idle: PoolThread | undefined;
      try {
        idle = this.threads.find((t) => t.job === undefined) ?? (this.threads.length < this.size ? this.spawn() : undefined);
      } catch (e) {
        // No thread can start (the worker script is missing): the queued shards fail instead of waiting.
        for (const job of this.queue.splice(0)) this.settle(job, new LokiError('internal', 'query_worker', (e as Error).message));
        return;
      }
      if (!idle) return;
      const job = this.queue.shift()!;
      const msg: FromPool = { type: 'run', id: job.id, task: job.task, stop: job.stop, deadlineMs: job.deadlineMs };
      try {
        idle.thread.postMessage(msg);
      } catch (e) {
        // A task that cannot be cloned fails alone; the thread stays free.
        this.settle(job, new LokiError('internal', 'query_worker', `a query shard could not be sent to a worker: ${(e as Error).message}`));
        continue;
      }
      idle.job = job;
    }
  }

  private spawn(): PoolThread {
    const thread = new Worker(this.script);
    // Idle workers must not keep the process alive; the HTTP server does while it runs.
    thread.unref();
    const t: PoolThread = { thread, job: undefined };
    thread.on('message', (msg: ToPool) => this.onMessage(t, msg));
    thread.on('error', (e) => this.onThreadDeath(t, `query worker failed: ${e.message}`));
    thread.on('messageerror', (e) => this.onThreadDeath(t, `a query worker's answer could not be read: ${e.message}`));
    thread.on('exit', (code) => this.onThreadDeath(t, `query worker exited with code ${code}`));
    this.threads.push(t);
    return t;
  }

  private onMessage(t: PoolThread, msg: ToPool): void {
    switch (msg.type) {
      case 'chunk':
        void this.serveChunk(t, msg);
        return;
      case 'done':
      case 'failed': {
        const job = t.job;
        t.job = undefined;
        if (job && job.id === msg.id) this.settle(job, msg.type === 'failed' ? fromWire(msg.error) : undefined, msg.type === 'done' ? msg.result : undefined);
        this.dispatch();
        return;
      }
    }
  }

  /**
   * A stored chunk a worker asked for, read on this thread (the store's clients live here) and moved to
   * the worker. A read is ours (ObjectStore.get), so its memory moves as it is when the Buffer spans all
   * of it; one cut from a shared pool is copied first. Copying every chunk was a third of this thread's
   * time in a query over flushed data (20 regex queries over 500 MB: 0.75 of 2.4 CPU-s). The worker runs
   * one shard at a time, so the read is for the shard it runs.
   */
  private async serveChunk(t: PoolThread, msg: Extract<ToPool, { type: 'chunk' }>): Promise<void> {
    let reply: FromPool;
    let transfer: ArrayBuffer[] = [];
    try {
      // A read for a query that has stopped is not started, and one that stops meanwhile is answered with
      // the stop at once: the worker is freed even while the store is slow to answer.
      const read = () => this.store.getChunk(msg.tenant, msg.ref);
      const bytes = await (t.job ? startUnlessAborted(t.job.signal, read) : read());
      const own = transferable(bytes) ?? new Uint8Array(bytes);
      reply = { type: 'chunk', read: msg.read, bytes: own };
      transfer = [own.buffer as ArrayBuffer];
    } catch (e) {
      reply = { type: 'chunk', read: msg.read, error: wireError(e) };
    }
    if (this.threads.includes(t)) t.thread.postMessage(reply, transfer);
  }

  /** A thread that died fails the shard it ran; a new one starts for the queued shards. */
  private onThreadDeath(t: PoolThread, message: string): void {
    const i = this.threads.indexOf(t);
    if (i < 0) return;
    this.threads.splice(i, 1);
    if (this.closed) return;
    this.onWorkerFailure(message);
    if (t.job) this.settle(t.job, new LokiError('internal', 'query_worker', message));
    void t.thread.terminate();
    this.dispatch();
  }
}

/** `bytes` when it is all of an ArrayBuffer (not a slice of a pool, nor shared memory), so it can be transferred. */
function transferable(bytes: Uint8Array): Uint8Array | undefined {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : undefined;
}

/**
 * The worker's script: the compiled shard-worker.js beside this module, or, when this module runs from the
 * TypeScript sources (vitest), the build of the same file (the test command builds first).
 */
function workerScript(): URL {
  const beside = new URL('./shard-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const href = beside.href;
  const at = href.lastIndexOf('/src/');
  const built = at >= 0 ? new URL(`${href.slice(0, at)}/dist/${href.slice(at + '/src/'.length)}`) : beside;
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`the query worker script is missing: ${fileURLToPath(beside)} (build the package first)`);
}
