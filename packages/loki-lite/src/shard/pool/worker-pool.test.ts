import { LokiError } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { MemChunk } from '../../chunk/mem-chunk.js';
import type { LogSelectorExpr, RangeAggregationExpr } from '../../logql/syntax/ast.js';
import { parseQuery } from '../../logql/syntax/parser.js';
import { toWire } from '../../logql/syntax/wire.js';
import type { LogStore } from '../../storage/log-store.js';
import { eventually } from '../../testing/eventually.js';
import type { FoldShard, LogsShard, ShardStream } from '../shard.js';
import { WorkerPool } from './worker-pool.js';

/*
 * The pool itself (the query tests run every query through it, see vitest.config.ts): errors keep their
 * kind across the thread boundary, and a stopped shard rejects at once and frees its thread.
 */

const NO_STORE = { getChunk: () => Promise.reject(new Error('no chunks in this test')) } as unknown as LogStore;

/** One in-memory stream of `n` lines, every 1000th of them holding "needle". */
function memoryStream(n: number): ShardStream {
  const chunk = new MemChunk('snappy', 256 * 1024, 1 << 30);
  for (let i = 0; i < n; i++)
    chunk.append({ timestamp: BigInt(i + 1), line: `line ${i} ${i % 1000 === 0 ? 'needle' : 'hay'} level=info`, structuredMetadata: [] });
  return { labels: [{ name: 'app', value: 'x' }], memory: [{ minTs: 1n, maxTs: BigInt(n), chunk: chunk.snapshot() }], chunks: [] };
}

const common = { tenant: 't', from: 0n, through: 1n << 62n, discoverLogLevels: false } as const;
const logs = (streams: ShardStream[], query: string): LogsShard => ({
  ...common,
  kind: 'logs',
  streams,
  query: toWire(parseQuery(query) as LogSelectorExpr),
  direction: 'forward',
  limit: 5,
  categorize: false,
});
const fold = (streams: ShardStream[], query: string): FoldShard => ({
  ...common,
  kind: 'fold',
  streams,
  query: toWire(parseQuery(query) as RangeAggregationExpr),
  start: 1n << 40n,
  end: 1n << 40n,
  step: 0n,
  grouping: undefined,
});
const running = () => ({ signal: new AbortController().signal, deadlineMs: undefined });

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('worker pool', () => {
  it('runs shards on its threads and answers with plain data', async () => {
    pool = new WorkerPool(NO_STORE, 2);
    const stream = memoryStream(5000);
    const [found, counted] = await Promise.all([
      pool.run(logs([stream], '{app="x"} |= "needle"'), running()),
      pool.run(fold([stream], 'count_over_time({app="x"} |= "needle" [1h])'), running()),
    ]);
    expect(found.kind === 'logs' && found.groups[0]!.entries.map((e) => e.line)).toEqual([0, 1000, 2000, 3000, 4000].map((i) => `line ${i} needle level=info`));
    expect(counted.kind === 'fold' && counted.state.series[0]!.count[0]).toBe(5);
    expect(counted.processed).toMatchObject({ lines: 5000, chunks: 0 });
  });

  it("rejects with the shard's own error, kind and code kept", async () => {
    pool = new WorkerPool(NO_STORE, 1);
    const failed = pool.run(fold([memoryStream(10)], 'count_over_time({app="x"} | json [1h])'), running());
    await expect(failed).rejects.toBeInstanceOf(LokiError);
    await expect(failed).rejects.toMatchObject({ kind: 'bad_data', code: 'pipeline_error' });
  });

  it('rejects a stopped shard at once with the reason, frees its thread, and runs the next', async () => {
    pool = new WorkerPool(NO_STORE, 1);
    const big = memoryStream(300_000);
    const stop = new AbortController();
    const reason = new LokiError('canceled', 'client_gone', 'the client went away');
    const slow = pool.run(fold([big], 'count_over_time({app="x"} |~ "l.*e.*v.*e.*l" [1h])'), { signal: stop.signal, deadlineMs: undefined });
    await eventually(async () => pool!.busyThreads() === 1, 10_000);
    stop.abort(reason);
    await expect(slow).rejects.toBe(reason);
    await eventually(async () => pool!.busyThreads() === 0, 10_000);
    const next = await pool.run(logs([memoryStream(10)], '{app="x"}'), running());
    expect(next.kind === 'logs' && next.groups[0]!.entries.length).toBe(5);
  });

  it('fails the shard of a thread that dies, reports it, and runs the shards queued behind it on a new thread', async () => {
    const failures: string[] = [];
    pool = new WorkerPool(NO_STORE, 1, (m) => failures.push(m), new URL('./fixtures/dying-worker.mjs', import.meta.url));
    const of = (tenant: string) => pool!.run({ ...logs([], '{app="x"}'), tenant }, running());
    const exits = of('exit');
    const queued = of('t');
    await expect(exits).rejects.toMatchObject({ kind: 'internal', code: 'query_worker', message: 'query worker exited with code 3' });
    await expect(queued).resolves.toMatchObject({ kind: 'logs', groups: [] });
    const throws = of('throw');
    const next = of('t');
    await expect(throws).rejects.toMatchObject({ kind: 'internal', code: 'query_worker', message: 'query worker failed: boom' });
    await expect(next).resolves.toMatchObject({ kind: 'logs', groups: [] });
    expect(failures).toEqual(['query worker exited with code 3', 'query worker failed: boom']);
  });

  it('answers a shard whose deadline passed with the query timeout error', async () => {
    pool = new WorkerPool(NO_STORE, 1);
    const late = pool.run(fold([memoryStream(10_000)], 'count_over_time({app="x"}[1h])'), { signal: new AbortController().signal, deadlineMs: Date.now() - 1 });
    await expect(late).rejects.toMatchObject({ kind: 'timeout', code: 'query_timeout' });
  });
});
