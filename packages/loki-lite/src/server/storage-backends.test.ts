import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedChunkEntries } from '../testing/chunk-entries.js';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import { type S3rverHandle, S3RVER_CREDENTIALS, startS3rver } from '../storage/testing/s3rver.js';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

const now = BigInt(Date.now()) * 1_000_000n;
const push = (server: TestServer, app: string, lines: string[]) =>
  server.pushJson({ streams: [{ stream: { app }, values: lines.map((l, i) => [(now + BigInt(i)).toString(), l]) }] });

async function readLines(server: TestServer, selector: string): Promise<string[]> {
  const res = await server.get(
    `/loki/api/v1/query_range?${qs({ query: selector, start: now - 1n, end: now + 10n ** 12n, direction: 'forward', limit: 5000 })}`,
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Array<{ values: string[][] }> } };
  return body.data.result.flatMap((s) => s.values.map((v) => v[1]!));
}

describe('loki-lite on S3 (s3rver on 127.0.0.1)', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver();
    await s3.createBucket('loki-chunks');
  });
  afterAll(() => s3?.stop());

  const yaml = () => `
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: s3, schema: v13, index: {prefix: loki_index_, period: 24h}}]}
storage_config:
  aws: {endpoint: "${s3.endpoint}", bucketnames: loki-chunks, region: us-east-1, s3forcepathstyle: true, insecure: true,
        access_key_id: ${S3RVER_CREDENTIALS.accessKeyId}, secret_access_key: ${S3RVER_CREDENTIALS.secretAccessKey}}
`;

  it('flushes chunks and index files to the bucket, and a fresh server reads them from there; every request is timed as Loki times it', async () => {
    const writer = await startTestServer(yaml());
    const lines = Array.from({ length: 500 }, (_, i) => `s3 line ${i}`);
    try {
      expect((await push(writer, 's3app', lines)).status).toBe(204);
      expect((await fetch(`${writer.url}/flush`, { method: 'POST' })).status).toBe(204);
      // a chunk and an index file
      expect(s3Requests(await (await writer.get('/metrics')).text(), 'S3.PutObject')).toBeGreaterThanOrEqual(2);
    } finally {
      await writer.destroy();
    }

    // a new server with an empty WAL: everything it returns comes from S3
    const reader = await startTestServer(yaml());
    try {
      expect(await readLines(reader, '{app="s3app"}')).toEqual(lines);
      const labels = await (await reader.get(`/loki/api/v1/labels?${qs({ start: now - 1n, end: now + 10n ** 12n })}`)).json();
      expect(labels).toEqual({ status: 'success', data: ['app'] });
      const metrics = await (await reader.get('/metrics')).text();
      expect(s3Requests(metrics, 'S3.List')).toBeGreaterThanOrEqual(1);
      expect(s3Requests(metrics, 'S3.GetObject')).toBeGreaterThanOrEqual(2);
    } finally {
      await reader.destroy();
    }
  });
});

/** The count of loki_s3_request_duration_seconds for one operation that succeeded. */
function s3Requests(metrics: string, operation: string): number {
  const m = new RegExp(`^loki_s3_request_duration_seconds_count\\{operation="${operation.replace('.', '\\.')}",status_code="200"\\} (\\d+)$`, 'm').exec(
    metrics,
  );
  return m ? Number(m[1]) : 0;
}

/** Fails the first `failures` chunk writes, like an object store that is briefly down. */
class FlakyStore extends MemoryObjectStore {
  chunkWrites = 0;
  constructor(private failures: number) {
    super();
  }
  override async put(key: string, body: Uint8Array): Promise<void> {
    if (key.startsWith('chunks/')) {
      this.chunkWrites++;
      if (this.failures > 0) {
        this.failures--;
        throw new Error('503 SlowDown');
      }
    }
    return super.put(key, body);
  }
}

describe('flush failures', () => {
  it('are retried with backoff until they succeed; no data is dropped and queries keep working meanwhile', async () => {
    const store = new FlakyStore(5);
    const server = await startTestServer('ingester: {flush_op_backoff: {min_period: 20ms, max_period: 100ms}}', { objectStore: store });
    try {
      const lines = Array.from({ length: 50 }, (_, i) => `flaky ${i}`);
      expect((await push(server, 'flaky', lines)).status).toBe(204);
      expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
      expect(store.chunkWrites).toBe(6);
      expect((await store.list('chunks/')).length).toBe(1);
      expect((await store.list('index/')).length).toBe(1);
      expect(await readLines(server, '{app="flaky"}')).toEqual(lines);
      const metrics = await (await server.get('/metrics')).text();
      expect(metrics).toMatch(/^loki_ingester_chunks_flush_failures_total 5$/m);
      expect(metrics).toMatch(/^loki_ingester_chunks_flushed_total\{reason="forced"\} 1$/m);
    } finally {
      await server.destroy();
    }
  });
});

/** Counts reads of chunk objects. */
class CountingStore extends MemoryObjectStore {
  chunkReads = 0;
  override async get(key: string): Promise<Buffer> {
    if (key.startsWith('chunks/')) this.chunkReads++;
    return super.get(key);
  }
}

describe('the index', () => {
  it('answers labels, label values, series and index/stats without opening a chunk; log queries read chunks', async () => {
    const store = new CountingStore();
    const server = await startTestServer('', { objectStore: store });
    try {
      for (const app of ['a', 'b', 'c']) expect((await push(server, app, [`line of ${app}`])).status).toBe(204);
      expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
      const range = qs({ start: now - 1n, end: now + 10n ** 12n });
      expect(await (await server.get(`/loki/api/v1/labels?${range}`)).json()).toEqual({ status: 'success', data: ['app'] });
      expect(await (await server.get(`/loki/api/v1/label/app/values?${range}`)).json()).toEqual({ status: 'success', data: ['a', 'b', 'c'] });
      const series = await (await server.get(`/loki/api/v1/series?${range}&${qs({ 'match[]': '{app=~"a|b"}' })}`)).json();
      expect(series).toEqual({ status: 'success', data: expect.arrayContaining([{ app: 'a' }, { app: 'b' }]) });
      const stats = await (await server.get(`/loki/api/v1/index/stats?${range}&${qs({ query: '{app=~".+"}' })}`)).json();
      expect(stats).toEqual({ streams: 3, chunks: 3, bytes: 27, entries: 3 }); // 'line of x' is 9 bytes
      expect(store.chunkReads).toBe(0);
      // data not yet flushed counts too, from the ingester's memory
      expect((await server.pushJson({ streams: [{ stream: { app: 'a' }, values: [[(now + 5n).toString(), 'new']] }] })).status).toBe(204);
      expect(await (await server.get(`/loki/api/v1/index/stats?${range}&${qs({ query: '{app="a"}' })}`)).json()).toEqual({
        streams: 1,
        chunks: 2,
        bytes: 12,
        entries: 2,
      });
      expect(await readLines(server, '{app="b"}')).toEqual(['line of b']);
      expect(store.chunkReads).toBe(1);
    } finally {
      await server.destroy();
    }
  });

  it('skips objects in an index table that are not loki-lite index files, once each, with a warning and a metric; queries answer', async () => {
    const store = new MemoryObjectStore();
    const server = await startTestServer('', { objectStore: store });
    try {
      expect((await push(server, 'kept', ['a line in a shared bucket'])).status).toBe(204);
      expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
      const [ours] = await store.list('index/');
      const table = ours!.slice(0, ours!.lastIndexOf('/') + 1);
      // Loki's own TSDB file in the same bucket, and a file named as ours that is not one.
      await store.put(`${table}1764547200-ingester-0-1764547200000.tsdb.gz`, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
      await store.put(`${table}1764547200000-deadbeef-0.tsdb`, Buffer.from('not an index file at all, but long enough'));
      for (let i = 0; i < 2; i++) expect(await readLines(server, '{app="kept"}')).toEqual(['a line in a shared bucket']);
      const metrics = await (await server.get('/metrics')).text();
      expect(metrics).toMatch(/^loki_lite_index_files_skipped_total 2$/m);
    } finally {
      await server.destroy();
    }
  });

  it("answers a query over a chunk deleted under the index with the other lines, naming the chunk in Loki's warnings", async () => {
    const store = new MemoryObjectStore();
    const server = await startTestServer('', { objectStore: store });
    try {
      expect((await push(server, 'gone', ['a line whose chunk is deleted'])).status).toBe(204);
      expect((await push(server, 'kept', ['a line that stays'])).status).toBe(204);
      expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
      const chunks = await store.list('chunks/');
      expect(chunks).toHaveLength(2);
      const range = qs({ start: now - 1n, end: now + 10n ** 12n, limit: 100 });
      for (const key of chunks) {
        if (storedChunkEntries(await store.get(key), 0n, 2n ** 62n).some((e) => e.line.includes('deleted'))) await store.delete(key);
      }
      expect(await store.list('chunks/')).toHaveLength(1);
      const res = await server.get(`/loki/api/v1/query_range?${range}&${qs({ query: '{app=~"gone|kept"}' })}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { result: Array<{ values: string[][] }> }; warnings?: string[] };
      expect(body.data.result.flatMap((s) => s.values.map((v) => v[1]))).toEqual(['a line that stays']);
      expect(body.warnings).toHaveLength(1);
      expect(body.warnings![0]).toMatch(/^chunk chunks\/fake\/\S+ is listed in the index but missing from the store; the answer leaves out its lines$/);
      const metric = (await (
        await server.get(`/loki/api/v1/query?${qs({ query: 'sum(count_over_time({app=~"gone|kept"}[1h]))', time: now + 10n ** 9n })}`)
      ).json()) as { data: { result: Array<{ value: [number, string] }> }; warnings?: string[] };
      expect(metric.data.result[0]!.value[1]).toBe('1');
      expect(metric.warnings).toEqual(body.warnings);
    } finally {
      await server.destroy();
    }
  });
});
