import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeleteRequestStore } from '../deletion/store.js';
import { chunkKey } from '../storage/keys.js';
import { FsObjectStore } from '../storage/fs/fs-store.js';
import { LogStore } from '../storage/log-store.js';
import { storedChunkEntries } from '../testing/chunk-entries.js';
import { compactorFixture } from '../testing/compactor-fixture.js';
import { eventually } from '../testing/eventually.js';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * Delete requests end to end: lines pushed and flushed through a real server, requests made through its
 * delete API, then a compactor over the same folder (as a compactor process beside the server would run,
 * with a clock past the cancel period) removes what they match from storage and marks them processed,
 * which the server's GET /loki/api/v1/delete shows.
 */

const MS = 1_000_000n;
const HOUR_MS = 3_600_000;
const PERIODS = [{ from: 0n, prefix: 'index_' }];
const RETENTION = '{retention_enabled: true, delete_request_store: filesystem, retention_delete_delay: 2h}';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});

describe('delete requests carried out by the compactor, through a real server', () => {
  for (const mode of ['filter-and-delete', 'filter-only'] as const) {
    it(`${mode}: ${mode === 'filter-only' ? 'lines hidden, storage unchanged, requests left received' : 'matching lines leave storage, other streams byte for byte, requests processed'}`, async () => {
      const limitsYaml = `{deletion_mode: ${mode}}`;
      server = await startTestServer(`compactor: ${RETENTION}\nlimits_config: ${limitsYaml}`);
      const startS = Math.floor(Date.now() / 1000) - 2 * 3600;
      const ns = (s: number) => (BigInt(startS + s) * 1_000_000_000n).toString();
      const values = (app: string) => Array.from({ length: 10 }, (_, i) => [ns(i), app === 'a' && i % 2 === 1 ? `secret ${i}` : `${app} line ${i}`]);
      const push = await server.pushJson({ streams: ['a', 'b', 'c'].map((app) => ({ stream: { app }, values: values(app) })) });
      expect(push.status).toBe(204);
      expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);

      const objects = new FsObjectStore(server.dir);
      const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
      const refsOf = async (app: string) =>
        (
          await store.selectSeries(
            'fake',
            [{ name: 'app', type: '=', value: app, matches: (v: string) => v === app }],
            BigInt(startS - 60) * 1_000_000_000n,
            BigInt(Date.now()) * MS,
          )
        ).flatMap((s) => s.chunks);
      const keysBefore = Object.fromEntries(
        await Promise.all(['a', 'b', 'c'].map(async (app) => [app, (await refsOf(app)).map((c) => chunkKey('fake', c))] as const)),
      );
      const bytesBefore = new Map(await Promise.all((await objects.list('chunks/')).map(async (k) => [k, await objects.get(k)] as const)));
      expect(bytesBefore.size).toBe(3);

      for (const query of ['{app="a"} |= "secret"', '{app="c"}']) {
        const res = await fetch(`${server.url}/loki/api/v1/delete?${qs({ query, start: String(startS - 60), end: String(startS + 60) })}`, { method: 'POST' });
        expect(res.status).toBe(204);
      }
      const range = { start: ns(-60), end: ns(60), limit: '1000', direction: 'forward' };
      const lines = async () => {
        const res = await server!.get(`/loki/api/v1/query_range?${qs({ query: '{app=~".+"}', ...range })}`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { data: { result: Array<{ stream: { app: string }; values: string[][] }> } };
        return Object.fromEntries(body.data.result.map((s) => [s.stream.app, s.values.map((v) => v[1])]));
      };
      const expected = {
        a: values('a')
          .filter((_, i) => i % 2 === 0)
          .map((v) => v[1]),
        b: values('b').map((v) => v[1]),
      };
      // hidden at query time from the moment the requests are accepted, in every mode
      expect(await lines()).toEqual(expected);

      let shiftMs = 24 * HOUR_MS + 2 * 60_000;
      const { compactor, metrics } = compactorFixture({
        store,
        workingDirectory: path.join(server.dir, 'test-compactor'),
        now: () => Date.now() + shiftMs,
        compactorYaml: RETENTION,
        limitsYaml,
        deleteRequests: new DeleteRequestStore(objects),
      });
      expect((await compactor.runCompaction(true)).failedTables).toBe(0);
      const listed = (await (await server.get('/loki/api/v1/delete')).json()) as Array<{ query: string; status: string }>;
      const status = mode === 'filter-and-delete' ? 'processed' : 'received';
      expect(listed.map((r) => [r.query, r.status])).toEqual([
        ['{app="a"} |= "secret"', status],
        ['{app="c"}', status],
      ]);
      shiftMs += 2 * HOUR_MS + 1;
      await compactor.sweep();

      const bytesAfter = new Map(await Promise.all((await objects.list('chunks/')).map(async (k) => [k, await objects.get(k)] as const)));
      expect(bytesAfter.get(keysBefore.b![0]!)!.equals(bytesBefore.get(keysBefore.b![0]!)!)).toBe(true);
      if (mode === 'filter-only') {
        expect([...bytesAfter.keys()]).toEqual([...bytesBefore.keys()]);
        for (const [k, bytes] of bytesAfter) expect(bytes.equals(bytesBefore.get(k)!)).toBe(true);
      } else {
        // a rewritten, c gone; the old objects swept after retention_delete_delay
        expect(bytesAfter.has(keysBefore.a![0]!) || bytesAfter.has(keysBefore.c![0]!)).toBe(false);
        expect(bytesAfter.size).toBe(2);
        const [rewritten] = await refsOf('a');
        const stored = storedChunkEntries(await store.getChunk('fake', rewritten!), rewritten!.from, rewritten!.through + 1n).map((e) => e.line);
        expect(stored).toEqual(expected.a);
        expect(await refsOf('c')).toEqual([]);
        expect(await metrics.registry.metrics()).toContain('loki_compactor_deleted_lines{user="fake"} 5');
      }
      // The server's readers may hold the replaced index listing until its TTL (5s): once it has moved on,
      // queries answer the same as before the compactor ran, without an error.
      await eventually(async () => JSON.stringify(await lines()) === JSON.stringify(expected));
      expect(await lines()).toEqual(expected);
    });
  }
});
