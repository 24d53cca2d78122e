import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DeleteRequestStore } from '../deletion/store.js';
import { FsObjectStore } from '../storage/fs/fs-store.js';
import { eventually } from '../testing/eventually.js';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * Loki's delete API end to end, through a real server: requests made, listed and cancelled with Loki's
 * statuses, texts and JSON, kept across a restart, and the lines they match hidden from queries, whether
 * the lines are in the ingester's memory or flushed to the store.
 */

const NS = 1_000_000_000n;
/** Two hours ago, on a whole second: deletes may not reach into the future. */
const T = BigInt(Math.floor(Date.now() / 1000) - 7200);
const at = (s: number) => ((T + BigInt(s)) * NS).toString();
const secs = (s: number) => (T + BigInt(s)).toString();

const running = new Set<TestServer>();
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running) await s.destroy();
  running.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Loki serves the delete API, and its querier hides deleted lines, only with retention enabled. */
const RETENTION = { retention_enabled: true, delete_request_store: 'filesystem' };

async function start(yaml = '', dir?: string, retention = true): Promise<TestServer> {
  const tree = (parse(yaml) as Record<string, unknown> | null) ?? {};
  const withRetention = retention ? { ...tree, compactor: { ...RETENTION, ...(tree.compactor as object | undefined) } } : tree;
  const server = await startTestServer(stringify(withRetention), dir ? { dir } : {});
  running.add(server);
  return server;
}

const send = (server: TestServer, method: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/loki/api/v1/delete?${qs(params)}`, { method, headers });

interface Listed {
  request_id: string;
  start_time: number;
  end_time: number;
  query: string;
  status: string;
  created_at: number;
}

async function list(server: TestServer): Promise<Listed[]> {
  const res = await server.get('/loki/api/v1/delete');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as Listed[];
}

async function generation(server: TestServer): Promise<string> {
  const res = await server.get('/loki/api/v1/cache/generation_numbers');
  expect(res.status).toBe(200);
  return (await res.json()) as string;
}

async function logLines(server: TestServer, query: string): Promise<Record<string, string[]>> {
  const res = await server.get(`/loki/api/v1/query_range?${qs({ query, start: at(0), end: at(100), limit: 1000, direction: 'forward' })}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: string[][] }> } };
  return Object.fromEntries(body.data.result.map((s) => [s.stream.app!, s.values.map((v) => v[1]!)]));
}

async function counts(server: TestServer): Promise<Record<string, string>> {
  const res = await server.get(`/loki/api/v1/query?${qs({ query: 'sum by (app) (count_over_time({kind="test"}[200s]))', time: secs(100) })}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return Object.fromEntries(body.data.result.map((r) => [r.metric.app!, r.value[1]]));
}

async function metric(server: TestServer, name: string): Promise<number> {
  const line = (await (await server.get('/metrics')).text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Three streams of ten lines each, one a second from T: app=a mixes "secret" lines in. */
async function pushStreams(server: TestServer): Promise<void> {
  const values = (app: string) => Array.from({ length: 10 }, (_, i) => [at(i), app === 'a' && i % 2 === 1 ? `secret ${i}` : `${app} line ${i}`]);
  const streams = ['a', 'b', 'c'].map((app) => ({ stream: { app, kind: 'test' }, values: values(app) }));
  expect((await server.pushJson({ streams })).status).toBe(204);
}

describe('the delete API', () => {
  it('makes, lists and cancels requests with Loki statuses and JSON, and moves the cache generation on', async () => {
    const server = await start();
    expect(await list(server)).toEqual([]);
    expect(await generation(server)).toBe('');

    const made = await send(server, 'POST', { query: '{app="a"} |= "secret"', start: secs(0), end: secs(60) });
    expect(made.status).toBe(204);
    expect(await made.text()).toBe('');
    expect((await send(server, 'PUT', { query: '{app="c"}', start: new Date(Number(T) * 1000).toISOString() })).status).toBe(204);

    const listed = await list(server);
    expect(listed).toHaveLength(2);
    expect(listed[0]).toEqual({
      request_id: expect.stringMatching(/^[0-9a-f]{8}$/),
      start_time: Number(T),
      end_time: Number(T) + 60,
      query: '{app="a"} |= "secret"',
      status: 'received',
      created_at: expect.any(Number),
    });
    expect(listed[1]).toMatchObject({ query: '{app="c"}', start_time: Number(T), status: 'received' });
    // no end: now
    expect(listed[1]!.end_time).toBeGreaterThan(Number(T) + 7000);
    expect(listed[0]!.created_at).toBeLessThanOrEqual(listed[1]!.created_at);
    const gen = await generation(server);
    expect(gen).toMatch(/^\d{19}$/);

    expect((await send(server, 'DELETE', { request_id: listed[0]!.request_id })).status).toBe(204);
    expect((await list(server)).map((r) => r.query)).toEqual(['{app="c"}']);
    expect(BigInt(await generation(server))).toBeGreaterThan(BigInt(gen));

    const unknown = await send(server, 'DELETE', { request_id: 'ffffffff' });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('could not find delete request with given id\n');
    expect(await metric(server, 'loki_compactor_delete_requests_received_total{user="fake"}')).toBe(2);
  });

  it('keeps one request for a range cut into pieces by max_interval, listed as Loki merges them', async () => {
    const server = await start();
    expect((await send(server, 'POST', { query: '{app="a"} |= "x"', start: secs(-3600), end: secs(0), max_interval: '20m' })).status).toBe(204);
    expect(await list(server)).toEqual([expect.objectContaining({ start_time: Number(T) - 3600, end_time: Number(T), status: 'received' })]);
  });

  it('without compactor.retention_enabled has no routes (404, as Loki registers them only then) and hides nothing', async () => {
    const server = await start('', undefined, false);
    await pushStreams(server);
    for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
      const res = await send(server, method, { query: '{app="a"}', start: secs(0), end: secs(60), request_id: 'abcd0123' });
      expect([method, res.status, await res.text()]).toEqual([method, 404, '404 page not found\n']);
    }
    expect((await server.get('/loki/api/v1/cache/generation_numbers')).status).toBe(404);
    // A request left in the store by an earlier run with retention is not applied at query time either.
    const store = new DeleteRequestStore(new FsObjectStore(server.dir));
    await store.add('fake', { query: '{app="a"}', pieces: [{ startMs: Number(T) * 1000, endMs: (Number(T) + 60) * 1000 }], intervalNs: 0n });
    expect((await logLines(server, '{kind="test"}')).a).toHaveLength(10);
  });

  it('answers 403 on every route for a tenant whose deletion_mode is disabled', async () => {
    const server = await start('limits_config: {deletion_mode: disabled}');
    for (const [method, path] of [
      ['POST', '/loki/api/v1/delete?query={a="b"}&start=1700000000'],
      ['PUT', '/loki/api/v1/delete'],
      ['GET', '/loki/api/v1/delete'],
      ['DELETE', '/loki/api/v1/delete?request_id=abc'],
      ['GET', '/loki/api/v1/cache/generation_numbers'],
    ] as const) {
      const res = await fetch(server.url + path, { method });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.text()).toBe('deletion is not available for this tenant\n');
    }
  });

  it("refuses bad requests with Loki's texts", async () => {
    const server = await start();
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Record<string, string>, string]> = [
      [{ start: secs(0) }, 'query not set'],
      [{ query: '{app="a"', start: secs(0) }, 'invalid query expression: parse error at line 1, col 9: syntax error: unexpected $end, expecting , or }'],
      [{ query: 'count_over_time({app="a"}[1m])', start: secs(0) }, 'invalid query expression: only log selector is supported'],
      [{ query: '{app="a"}' }, 'start time not set'],
      [{ query: '{app="a"}', start: '17000000' }, 'invalid start time: require unix seconds or RFC3339 format'],
      [{ query: '{app="a"}', start: secs(0), end: 'yesterday' }, 'invalid end time: require unix seconds or RFC3339 format'],
      [{ query: '{app="a"}', start: secs(0), end: String(now + 3600) }, 'deletes in the future are not allowed'],
      [{ query: '{app="a"}', start: secs(10), end: secs(0) }, "start time can't be greater than end time"],
      [{ query: '{app="a"} |= "x"', start: secs(0), end: secs(0) }, 'difference between start time and end time must be at least one second'],
      [{ query: '{app="a"} |= "x"', start: secs(0), end: secs(60), max_interval: '10ms' }, "invalid max_interval: valid time units are 's', 'm', 'h'"],
      [{ query: '{app="a"} |= "x"', start: secs(-90000), end: secs(0), max_interval: '25h' }, "max_interval can't be greater than 24h0m0s"],
      [
        { query: '{app="a"} |= "x"', start: secs(0), end: secs(60), max_interval: '2m' },
        "max_interval can't be greater than the interval to be deleted (1m0s)",
      ],
    ];
    for (const [params, text] of cases) {
      const res = await send(server, 'POST', params);
      expect([res.status, await res.text()], JSON.stringify(params)).toEqual([400, `${text}\n`]);
    }
    expect(await list(server)).toEqual([]);
  });

  it('refuses to cancel a request the compactor has processed', async () => {
    // The compactor marks pieces processed; here through the store the server reads, in its folder.
    const dir = mkdtempSync(path.join(tmpdir(), 'delete-'));
    dirs.push(dir);
    const server = await start('', dir);
    expect((await send(server, 'POST', { query: '{app="a"} |= "x"', start: secs(-7200), end: secs(0), max_interval: '1h' })).status).toBe(204);
    const store = new DeleteRequestStore(new FsObjectStore(dir));
    const pieces = await store.forTenant('fake');
    // T is not on the hour: a partial hour, a whole one and a partial one
    expect(pieces).toHaveLength(3);
    await store.markProcessed(pieces[0]!);
    expect((await list(server))[0]!.status).toBe('33% Complete');
    const id = pieces[0]!.requestId;
    const partial = await send(server, 'DELETE', { request_id: id });
    expect([partial.status, await partial.text()]).toEqual([
      400,
      'Unable to cancel partially completed delete request. To force, use the ?force query parameter\n',
    ]);
    expect((await send(server, 'DELETE', { request_id: id, force: 'true' })).status).toBe(204);
    expect(await list(server)).toEqual([
      expect.objectContaining({ request_id: id, status: 'processed', start_time: Number(T) - 7200, end_time: Number(T) - 7200 + 3600 - (Number(T) % 3600) }),
    ]);
    const done = await send(server, 'DELETE', { request_id: id });
    expect([done.status, await done.text()]).toEqual([400, 'deletion of request which is in process or already processed is not allowed\n']);
  });
});

describe('delete requests at query time', () => {
  const CONFIG = 'ingester: {wal: {flush_on_shutdown: false}}';

  it('hide the lines they match from log and metric queries, in memory, after a flush and after a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'delete-'));
    dirs.push(dir);
    const first = await start(CONFIG, dir);
    await pushStreams(first);
    const all = await logLines(first, '{kind="test"}');
    expect(all.a).toHaveLength(10);
    expect(await counts(first)).toEqual({ a: '10', b: '10', c: '10' });

    // a line filter over the whole range; a selector only over lines 0..4
    expect((await send(first, 'POST', { query: '{app="a"} |= "secret"', start: secs(0), end: secs(50) })).status).toBe(204);
    expect((await send(first, 'POST', { query: '{app="c"}', start: secs(0), end: secs(4) })).status).toBe(204);

    const expected = {
      a: all.a!.filter((l) => !l.startsWith('secret')),
      b: all.b!,
      c: all.c!.slice(5),
    };
    const check = async (server: TestServer) => {
      expect(await logLines(server, '{kind="test"}')).toEqual(expected);
      expect(await logLines(server, '{app="b"}')).toEqual({ b: all.b });
      expect(await counts(server)).toEqual({ a: '5', b: '10', c: '5' });
    };
    await check(first);

    expect((await fetch(`${first.url}/flush`, { method: 'POST' })).status).toBe(204);
    await eventually(async () => (await metric(first, 'loki_ingester_memory_chunks')) === 0);
    await check(first);

    await first.close();
    running.delete(first);
    const second = await start(CONFIG, dir);
    expect((await list(second)).map((r) => r.query)).toEqual(['{app="a"} |= "secret"', '{app="c"}']);
    await check(second);

    // a cancelled request hides nothing any more
    const c = (await list(second)).find((r) => r.query === '{app="c"}')!;
    expect((await send(second, 'DELETE', { request_id: c.request_id })).status).toBe(204);
    expect((await logLines(second, '{app="c"}')).c).toEqual(all.c);
  });

  it('in filter-only mode hide the lines too', async () => {
    const server = await start(`${CONFIG}\nlimits_config: {deletion_mode: filter-only}`);
    await pushStreams(server);
    expect((await send(server, 'POST', { query: '{app="b"}', start: secs(0), end: secs(100) })).status).toBe(204);
    expect(await counts(server)).toEqual({ a: '10', c: '10' });
  });
});
