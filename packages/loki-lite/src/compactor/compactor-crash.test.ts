import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../storage/fs/fs-store.js';
import { chunkKey } from '../storage/keys.js';
import { LogStore } from '../storage/log-store.js';
import { type ChildServer, startChild, writeChildConfig } from '../testing/child-server.js';
import { compactorFixture } from '../testing/compactor-fixture.js';
import { eventually } from '../testing/eventually.js';
import { qs, startTestServer } from '../testing/test-server.js';

const DAY_MS = 86_400_000;
const MS = 1_000_000n;
const PERIODS = [{ from: 0n, prefix: 'index_' }];
const OLD_DAYS = 20;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function markerFiles(dir: string): string[] {
  try {
    return readdirSync(path.join(dir, 'compactor', 'retention', 'markers')).filter((n) => !n.includes('.tmp-'));
  } catch {
    return [];
  }
}

/** Every chunk a current index file names is in the store: no query can fail on a missing chunk. */
async function missingIndexedChunks(objects: FsObjectStore): Promise<string[]> {
  const store = new LogStore(objects, PERIODS);
  const chunks = new Set(await objects.list('chunks/'));
  const missing: string[] = [];
  for (const table of await store.listAllTables()) {
    for (const key of await store.listTableFiles(table)) {
      for (const s of await store.readIndexFile(key))
        for (const c of s.chunks) if (!chunks.has(chunkKey(table.tenant, c))) missing.push(chunkKey(table.tenant, c));
    }
  }
  return missing;
}

/** The chunk objects (key -> bytes) of the streams with app=`app`, as the index names them. */
async function chunksOf(objects: FsObjectStore, app: string, nowMs: number): Promise<Map<string, Buffer>> {
  const store = new LogStore(objects, PERIODS);
  const series = await store.selectSeries('fake', [{ name: 'app', type: '=', value: app, matches: (v) => v === app }], 0n, BigInt(nowMs + 60_000) * MS);
  const keys = series.flatMap((s) => s.chunks.map((c) => chunkKey('fake', c)));
  return new Map(await Promise.all(keys.map(async (k) => [k, await objects.get(k)] as const)));
}

/**
 * A compactor process killed with SIGKILL in the middle of its retention run, and started again on the same
 * folder: the restart finishes the run, no query fails, and nothing inside retention is lost.
 */
describe('compactor crash safety (SIGKILL)', () => {
  it('a compactor killed during its retention run finishes it after a restart, losing nothing inside retention', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'compactor-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const nowMs = Date.now();
    const objects = new FsObjectStore(dir);

    // 1. Twenty days of old lines and fresh ones, flushed three times: three index files per table.
    const writer = await startTestServer('ingester: {wal: {enabled: false}}', { dir });
    const ns = (ms: number, i: number) => (BigInt(ms) * MS + BigInt(i)).toString();
    for (let round = 0; round < 3; round++) {
      const streams = Array.from({ length: OLD_DAYS }, (_, d) => ({
        stream: { app: 'old', day: String(d + 2) },
        values: Array.from({ length: 20 }, (_, i) => [ns(nowMs - (d + 2) * DAY_MS + round * 60_000, i), `old day ${d + 2} round ${round} line ${i}`]),
      }));
      streams.push({
        stream: { app: 'new', day: '0' },
        values: Array.from({ length: 20 }, (_, i) => [ns(nowMs - 600_000 + round * 60_000, i), `fresh ${round} ${i}`]),
      });
      expect((await writer.pushJson({ streams })).status).toBe(204);
      expect((await fetch(`${writer.url}/flush`, { method: 'POST' })).status).toBe(204);
    }
    const range = { start: ns(nowMs - (OLD_DAYS + 3) * DAY_MS, 0), end: ns(nowMs + 60_000, 0), limit: 1000 };
    const queryPath = (q: string) => `/loki/api/v1/query_range?${qs({ query: q, ...range })}`;
    const fresh = ((await (await writer.get(queryPath('{app="new"}'))).json()) as { data: { result: unknown } }).data.result;
    await writer.destroy();
    expect(await objects.list('chunks/')).toHaveLength(3 * (OLD_DAYS + 1));
    const freshChunks = await chunksOf(objects, 'new', nowMs);
    expect(freshChunks.size).toBe(3);

    // 2. A compactor with 24h retention; killed as soon as its retention run has written a marker file (in
    // trials, after 4 to 8 of the 20 old tables).
    const port = await freePort();
    const configFile = writeChildConfig(
      dir,
      port,
      `ingester: {wal: {enabled: false}}
limits_config: {reject_old_samples: false, retention_period: 24h, discover_log_levels: false, discover_service_name: []}
compactor: {retention_enabled: true, delete_request_store: filesystem, compaction_interval: 1h, retention_delete_delay: 0s}
`,
    );
    let child: ChildServer | undefined = await startChild(configFile, port);
    cleanups.push(() => void child?.process.kill('SIGKILL'));
    await eventually(async () => markerFiles(dir).length > 0, 20_000);
    child.process.kill('SIGKILL');
    await child.exited();
    expect(await missingIndexedChunks(objects)).toEqual([]);

    // 3. The restart runs compaction and retention at start; every query answers, fresh data whole. (The
    // expired refs are out of the index it wrote, but the files it replaced stay readable for a minute, for
    // readers that listed them: other readers' answers change when those go, which step 4 brings forward.)
    child = await startChild(configFile, port);
    const url = child.url;
    await eventually(
      async () => /loki_compactor_apply_retention_operation_total\{status="success"\} 1/.test(await (await fetch(`${url}/metrics`)).text()),
      20_000,
    );
    const answer = async (q: string) => {
      const res = await fetch(url + queryPath(q));
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { result: unknown[] } }).data.result;
    };
    await answer('{app="old"}');
    expect(await answer('{app="new"}')).toEqual(fresh);
    expect(await missingIndexedChunks(objects)).toEqual([]);
    child.process.kill('SIGTERM');
    await child.exited();
    child = undefined;

    // 4. What the restarted process left for later (replaced files it deletes after a minute, marks it sweeps
    // every minute) a compactor over the same folder finishes: only the fresh chunks are left.
    let shiftMs = 0;
    const { compactor } = compactorFixture({
      store: new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} }),
      workingDirectory: path.join(dir, 'compactor'),
      now: () => Date.now() + shiftMs,
      compactorYaml: '{retention_enabled: true, delete_request_store: filesystem, retention_delete_delay: 0s}',
      limitsYaml: '{retention_period: 24h}',
    });
    await (
      await compactor.runCompaction(true)
    ).oldFilesDeleted;
    shiftMs = 1000;
    await compactor.sweep();
    expect(markerFiles(dir)).toEqual([]);
    const store = new LogStore(objects, PERIODS);
    expect(await store.selectSeries('fake', [{ name: 'app', type: '=', value: 'old', matches: (v) => v === 'old' }], 0n, BigInt(nowMs) * MS)).toEqual([]);
    expect((await objects.list('chunks/')).sort()).toEqual([...freshChunks.keys()].sort());
    for (const [key, bytes] of freshChunks) expect((await objects.get(key)).equals(bytes)).toBe(true);
    expect(await missingIndexedChunks(objects)).toEqual([]);
  }, 120_000);
});
