import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/* Loki's operational endpoints: /config (all, diff, defaults) and /services. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer('ingester: {max_chunk_age: 3h}\nstorage_config: {aws: {bucketnames: b, secret_access_key: hunter2}}');
});
afterAll(() => server.destroy());

async function yamlOf(path: string): Promise<Record<string, Record<string, unknown>>> {
  const res = await server.get(path);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  const text = await res.text();
  expect(text).not.toContain('hunter2');
  return parse(text) as Record<string, Record<string, unknown>>;
}

describe('/config', () => {
  it('answers the configuration in effect as YAML, every key, secrets masked', async () => {
    const all = await yamlOf('/config');
    expect(all.ingester).toMatchObject({ max_chunk_age: '3h0m0s', chunk_idle_period: '30m0s', chunk_encoding: 'snappy' });
    expect(all.storage_config!.aws).toMatchObject({ bucketnames: 'b', secret_access_key: '********' });
    expect(all.auth_enabled).toBe(false);
  });

  it('?mode=diff answers only what differs from the defaults; ?mode=defaults the defaults', async () => {
    const diff = await yamlOf('/config?mode=diff');
    expect(diff.ingester).toEqual({ chunk_encoding: 'snappy', max_chunk_age: '3h0m0s', wal: expect.any(Object) });
    expect(diff.auth_enabled).toBe(false);
    expect(diff).not.toHaveProperty('querier');
    const defaults = await yamlOf('/config?mode=defaults');
    expect(defaults.ingester).toMatchObject({ max_chunk_age: '2h0m0s', chunk_encoding: 'gzip' });
    expect(defaults.auth_enabled).toBe(true);
  });
});

describe('/services', () => {
  it('lists the roles this process runs and their state, as Loki does', async () => {
    const res = await server.get('/services');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      'store => Running\ningester => Running\ndistributor => Running\nquerier => Running\nquery-frontend => Running\ncompactor => Running\nserver => Running\n',
    );
  });
});

describe('request metrics', () => {
  it('counts every request in loki_request_duration_seconds by method, route, status and ws, as the loki-mixin reads it; loki_build_info', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    expect((await server.pushJson({ streams: [{ stream: { app: 'ops' }, values: [[now.toString(), 'a line']] }] })).status).toBe(204);
    expect((await server.get(`/loki/api/v1/query_range?query=${encodeURIComponent('{app="ops"}')}`)).status).toBe(200);
    expect((await server.get('/no/such/path')).status).toBe(404);
    const text = await (await server.get('/metrics')).text();
    const count = (labels: string) => Number(new RegExp(`^loki_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count('method="POST",route="loki_api_v1_push",status_code="204",ws="false"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="loki_api_v1_query_range",status_code="200",ws="false"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="other",status_code="404",ws="false"')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^loki_request_duration_seconds_bucket\{le="0\.005",method="POST",route="loki_api_v1_push",status_code="204",ws="false"\} \d+$/m);
    expect(text).toMatch(/^loki_inflight_requests\{method="POST",route="loki_api_v1_push"\} 0$/m);
    expect(text).toMatch(
      /^loki_build_info\{version="\d+\.\d+\.\d+",revision="unknown",branch="unknown",goversion="node v20\.[^"]+",goos="linux",goarch="x64",tags="unknown"\} 1$/m,
    );
  });
});

describe('ingester metrics', () => {
  it("counts streams created and describes flushed chunks with Loki's names", async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const lines = Array.from({ length: 50 }, (_, i) => [(now + BigInt(i)).toString(), `line ${i} of the flushed chunk`]);
    expect((await server.pushJson({ streams: [{ stream: { app: 'flushed' }, values: lines }] })).status).toBe(204);
    expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
    const text = await (await server.get('/metrics')).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('loki_ingester_streams_created_total{tenant="fake"}')).toBeGreaterThanOrEqual(1);
    expect(value('loki_ingester_chunk_entries_count')).toBeGreaterThanOrEqual(1);
    expect(value('loki_ingester_chunk_entries_sum')).toBeGreaterThanOrEqual(50);
    expect(value('loki_ingester_chunk_size_bytes_count')).toBeGreaterThanOrEqual(1);
    expect(value('loki_ingester_chunk_compression_ratio_count')).toBeGreaterThanOrEqual(1);
    expect(value('loki_ingester_chunk_age_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('loki_ingester_chunk_stored_bytes_total{tenant="fake"}')).toBeGreaterThan(0);
    expect(text).toMatch(/^# TYPE loki_ingester_streams_removed_total counter$/m);
  });
});

describe('server.http_path_prefix', () => {
  it('serves every route under the prefix, as Loki does, and nothing outside it', async () => {
    const prefixed = await startTestServer('server: {http_path_prefix: /logs/}');
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const push = await fetch(`${prefixed.url}/logs/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ streams: [{ stream: { app: 'prefixed' }, values: [[now.toString(), 'under a prefix']] }] }),
      });
      expect(push.status).toBe(204);
      const read = await fetch(`${prefixed.url}/logs/loki/api/v1/query_range?query=${encodeURIComponent('{app="prefixed"}')}`);
      expect(JSON.stringify(await read.json())).toContain('under a prefix');
      expect((await fetch(`${prefixed.url}/logs/ready`)).status).toBe(200);
      const outside = await fetch(`${prefixed.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="prefixed"}')}`);
      expect([outside.status, await outside.text()]).toEqual([404, '404 page not found\n']);
    } finally {
      await prefixed.destroy();
    }
  });
});
