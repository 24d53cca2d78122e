import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';
import { eventually } from '../testing/eventually.js';

const T = 1_764_547_200n; // seconds
const NS = 1_000_000_000n;
const at = (offsetMs: number) => (T * NS + BigInt(offsetMs) * 1_000_000n).toString();

/** Chunks closed when idle, flushed and indexed within a few tens of ms; no WAL checkpoint meanwhile. */
const CONFIG = `
ingester:
  flush_check_period: 10ms
  chunk_idle_period: 50ms
  index_cut_period: 20ms
  wal: {checkpoint_duration: 1h, flush_on_shutdown: false}
`;

const running = new Set<TestServer>();
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running) await s.close();
  running.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function metric(server: TestServer, name: string): Promise<number> {
  const line = (await (await server.get('/metrics')).text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function lines(server: TestServer, params: Record<string, string | number>): Promise<string[]> {
  const res = await server.get(`/loki/api/v1/query_range?${qs({ query: '{app="ovl"}', start: at(0), end: at(100_000), ...params })}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Array<{ values: string[][] }> } };
  return body.data.result.flatMap((s) => s.values.map((v) => v[1]!));
}

async function count(server: TestServer, query: string): Promise<unknown> {
  const res = await server.get(`/loki/api/v1/query?${qs({ query, time: T + 100n })}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result.map((r) => r.value[1]);
}

describe('duplicates across memory and the store', () => {
  it('a WAL replay puts flushed lines back into memory; every query returns each line once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dedup-'));
    dirs.push(dir);
    const first = await startTestServer(CONFIG, { dir });
    running.add(first);
    const flushed = Array.from({ length: 10 }, (_, i) => [at(i * 1000), `line ${i}`]);
    flushed.push([at(5000), 'line 5, another at the same time']);
    expect((await first.pushJson({ streams: [{ stream: { app: 'ovl' }, values: flushed }] })).status).toBe(204);
    // flushed and indexed, gone from memory, still in the WAL (no checkpoint since)
    await eventually(
      async () => (await metric(first, 'loki_lite_index_files_written_total')) >= 1 && (await metric(first, 'loki_ingester_memory_chunks')) === 0,
    );
    running.delete(first);
    await first.close();

    // restarted over the same folder: the replay holds every flushed line again, beside the store's copy
    const second = await startTestServer(CONFIG.replace('flush_check_period: 10ms', 'flush_check_period: 1h'), { dir });
    running.add(second);
    expect(await metric(second, 'loki_ingester_memory_chunks')).toBe(1);
    const newer = [
      [at(10_000), 'line 10'],
      [at(11_000), 'line 11'],
      [at(9000), 'line 9'],
      [at(5000), 'line 5'],
    ];
    expect((await second.pushJson({ streams: [{ stream: { app: 'ovl' }, values: newer }] })).status).toBe(204);

    const all = [
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
      'line 5, another at the same time',
      'line 6',
      'line 7',
      'line 8',
      'line 9',
      'line 10',
      'line 11',
    ];
    expect(await lines(second, { direction: 'forward', limit: 100 })).toEqual(all);
    expect(await lines(second, { direction: 'backward', limit: 100 })).toEqual([...all].reverse());
    expect(await lines(second, { direction: 'forward', limit: 7 })).toEqual(all.slice(0, 7));
    expect(await lines(second, { direction: 'backward', limit: 4 })).toEqual(['line 11', 'line 10', 'line 9', 'line 8']);
    expect(await count(second, 'count_over_time({app="ovl"}[200s])')).toEqual(['13']);
    expect(await count(second, 'sum(count_over_time({app="ovl"} |= "line 5" [200s]))')).toEqual(['2']);
    expect(await count(second, 'sum(bytes_over_time({app="ovl"}[200s]))')).toEqual([String(all.reduce((n, l) => n + l.length, 0))]);
  });
});
