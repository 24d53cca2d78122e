import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../storage/fs/fs-store.js';
import { LogStore } from '../storage/log-store.js';
import { compactorFixture } from '../testing/compactor-fixture.js';
import { eventually } from '../testing/eventually.js';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

const MS = 1_000_000n;
const DAY_MS = 86_400_000;
const PERIODS = [{ from: 0n, prefix: 'index_' }];

let server: TestServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});

/**
 * Data pushed through a real server (days-old lines and fresh ones), flushed to the filesystem store, then a
 * compactor with a 24h retention over the same folder, as a compactor process beside the server would run.
 */
describe('retention over data pushed through a real server', () => {
  it('takes old data out of queries, series, label values and the store; fresh data stays byte for byte', async () => {
    server = await startTestServer('limits_config: {retention_period: 24h}');
    const nowMs = Date.now();
    const ns = (ms: number, i = 0) => (BigInt(ms) * MS + BigInt(i)).toString();
    const lines = (tsMs: number, text: string) => Array.from({ length: 50 }, (_, i) => [ns(tsMs, i), `${text} ${i}`]);
    const push = await server.pushJson({
      streams: [
        { stream: { app: 'old', env: 'prod' }, values: lines(nowMs - 3 * DAY_MS, 'three days ago') },
        { stream: { app: 'old', env: 'dev' }, values: lines(nowMs - 2 * DAY_MS, 'two days ago') },
        { stream: { app: 'new', env: 'prod' }, values: lines(nowMs - 60_000, 'a minute ago') },
      ],
    });
    expect(push.status).toBe(204);
    expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);

    const objects = new FsObjectStore(server.dir);
    const range = { start: ns(nowMs - 4 * DAY_MS), end: ns(nowMs + 60_000) };
    const get = async <T>(p: string) => (await (await server!.get(p)).json()) as { data: T };
    const query = (q: string) =>
      get<{ result: Array<{ stream: Record<string, string> }> }>(`/loki/api/v1/query_range?${qs({ query: q, limit: 1000, ...range })}`);
    const series = () => get<Array<Record<string, string>>>(`/loki/api/v1/series?${qs({ 'match[]': '{app=~".+"}', ...range })}`);
    const appValues = () => get<string[]>(`/loki/api/v1/label/app/values?${qs(range)}`);
    const chunkBytes = async () => new Map(await Promise.all((await objects.list('chunks/')).map(async (k) => [k, await objects.get(k)] as const)));

    const freshBefore = await query('{app="new"}');
    expect(JSON.stringify(freshBefore)).toContain('a minute ago 49');
    expect((await query('{app="old"}')).data.result).toHaveLength(2);
    const chunksBefore = await chunkBytes();
    expect(chunksBefore.size).toBe(3);
    const tablesBefore = new Set((await objects.list('index/')).map((k) => k.split('/')[1]));
    expect(tablesBefore.size).toBe(3);

    let shiftMs = 0;
    const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
    const { compactor } = compactorFixture({
      store,
      workingDirectory: path.join(server.dir, 'compactor'),
      now: () => Date.now() + shiftMs,
      compactorYaml: '{retention_enabled: true, delete_request_store: filesystem, retention_delete_delay: 2h}',
      limitsYaml: '{retention_period: 24h}',
    });
    const run = await compactor.runCompaction(true);
    expect(run).toMatchObject({ markedChunks: 2, deletedTables: 2, failedTables: 0 });
    await run.oldFilesDeleted;
    shiftMs = 2 * 3_600_000 + 1;
    expect(await compactor.sweep()).toEqual({ deleted: 2, kept: 0 });

    // The test's compactor deleted the replaced index files at once rather than after the delay readers
    // count on (index/README.md), so the server's readers (its query threads' listings and parsed files) may
    // answer from the old listing until its TTL (5s) is over: wait for that, then every answer agrees.
    await eventually(async () => JSON.stringify((await series()).data) === JSON.stringify([{ app: 'new', env: 'prod' }]));
    expect((await query('{app="old"}')).data.result).toEqual([]);
    expect((await query('{app=~".+"}')).data.result.map((s) => s.stream.app)).toEqual(['new']);
    expect((await series()).data).toEqual([{ app: 'new', env: 'prod' }]);
    expect((await appValues()).data).toEqual(['new']);
    expect((await query('{app="new"}')).data.result).toEqual(freshBefore.data.result);

    const chunksAfter = await chunkBytes();
    expect(chunksAfter.size).toBe(1);
    for (const [key, bytes] of chunksAfter) expect(bytes.equals(chunksBefore.get(key)!)).toBe(true);
    expect(new Set((await objects.list('index/')).map((k) => k.split('/')[1])).size).toBe(1);
  });
});
