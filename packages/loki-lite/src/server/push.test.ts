import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

const NOW_S = Math.floor(Date.now() / 1000);
const ns = (secondsAgo: number, extraNs = 0) => (BigInt(NOW_S - secondsAgo) * 1_000_000_000n + BigInt(extraNs)).toString();
const values = (vals: Array<[string, string] | [string, string, Record<string, string>]>) => vals;
const stream = (labels: Record<string, string>, vals: ReturnType<typeof values>) => ({ stream: labels, values: vals });

async function read(server: TestServer, query: string, extra: Record<string, string | number> = {}, headers: Record<string, string> = {}) {
  const res = await server.get(`/loki/api/v1/query_range?${qs({ query, start: ns(7200), end: ns(-60), limit: 1000, ...extra })}`, headers);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: string[][] }> } };
  return body.data.result;
}

describe('push API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(`
limits_config:
  reject_old_samples: true
  reject_old_samples_max_age: 1h
  max_line_size: 100
  max_label_names_per_series: 4
  max_label_name_length: 20
  max_label_value_length: 30
  max_structured_metadata_size: 40
  max_structured_metadata_entries_count: 3
operational_config:
  log_duplicate_metrics: true
`);
  });
  afterAll(() => server.destroy());

  it('accepts JSON with structured metadata and protobuf+snappy, answering 204, and reads both back', async () => {
    const res = await server.pushJson({ streams: [stream({ app: 'json', env: 'x' }, values([[ns(10), 'json line', { trace_id: 'abc' }]]))] });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const proto = await server.pushProto({
      streams: [
        { labels: '{app="proto", env="x"}', entries: [{ timestamp: BigInt(ns(9)), line: 'proto line', structuredMetadata: [{ name: 'k', value: 'v' }] }] },
      ],
    });
    expect(proto.status).toBe(204);
    // Without categorize-labels, Loki 3 answers structured metadata merged into the stream's labels.
    expect(await read(server, '{env="x"}')).toEqual(
      expect.arrayContaining([
        { stream: { app: 'json', env: 'x', trace_id: 'abc' }, values: [[ns(10), 'json line']] },
        { stream: { app: 'proto', env: 'x', k: 'v' }, values: [[ns(9), 'proto line']] },
      ]),
    );
  });

  it('accepts gzip-encoded bodies', async () => {
    const body = gzipSync(JSON.stringify({ streams: [stream({ app: 'gz' }, values([[ns(5), 'zipped']]))] }));
    const res = await fetch(`${server.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    expect(res.status).toBe(204);
    expect((await read(server, '{app="gz"}'))[0]!.values).toEqual([[ns(5), 'zipped']]);
  });

  it.each([
    ['no labels', {}, 'error at least one label pair is required per stream'],
    ['too many label names', { a: '1', b: '2', c: '3', d: '4', e: '5' }, `entry for stream '{a="1", b="2", c="3", d="4", e="5"}' has 5 label names; limit 4`],
    [
      'a label name too long',
      { a_very_long_label_name_indeed: '1' },
      `stream '{a_very_long_label_name_indeed="1"}' has label name too long: 'a_very_long_label_name_indeed'`,
    ],
    ['a label value too long', { app: 'v'.repeat(31) }, `stream '{app="${'v'.repeat(31)}"}' has label value too long: '${'v'.repeat(31)}'`],
  ])("rejects %s with 400 and Loki's text", async (_what, labels, message) => {
    const res = await server.pushJson({ streams: [stream(labels, values([[ns(1), 'x']]))] });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(message + '\n');
  });

  it('rejects duplicate and unparsable label names (protobuf label strings)', async () => {
    const dup = await server.pushProto({ streams: [{ labels: '{a="1", a="2"}', entries: [{ timestamp: BigInt(ns(1)), line: 'x', structuredMetadata: [] }] }] });
    expect(dup.status).toBe(400);
    expect(await dup.text()).toBe(`stream '{a="1", a="2"}' has duplicate label name: 'a'\n`);
    const bad = await server.pushProto({ streams: [{ labels: '{a=1}', entries: [{ timestamp: BigInt(ns(1)), line: 'x', structuredMetadata: [] }] }] });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(
      /^Error parsing labels '\{a=1\}' with error: parse error at line 1, col 4: syntax error: unexpected NUMBER, expecting STRING\n$/,
    );
  });

  it.each([
    [
      'a line over max_line_size',
      values([[ns(1), 'x'.repeat(101)]]),
      `Max entry size '100' bytes exceeded for stream '{app="lim"}' while adding an entry with length '101' bytes`,
    ],
    [
      'too much structured metadata',
      values([[ns(1), 'x', { k: 'v'.repeat(40) }]]),
      `stream '{app="lim"}' has structured metadata too large: '41' bytes, limit: '40' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it.`,
    ],
    [
      'too many metadata pairs',
      values([[ns(1), 'x', { a: '1', b: '2', c: '3', d: '4' }]]),
      `stream '{app="lim"}' has too many structured metadata labels: '4', limit: '3'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it.`,
    ],
  ])('rejects %s', async (_what, vals, message) => {
    const res = await server.pushJson({ streams: [stream({ app: 'lim' }, vals)] });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(message + '\n');
  });

  it('rejects samples too old and too new with RFC3339 times', async () => {
    const old = await server.pushJson({ streams: [stream({ app: 'age' }, values([[ns(7200), 'old']]))] });
    expect(old.status).toBe(400);
    expect(await old.text()).toMatch(
      /^entry for stream '\{app="age"\}' has timestamp too old: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, oldest acceptable timestamp is: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/,
    );
    const future = await server.pushJson({ streams: [stream({ app: 'age' }, values([[ns(-3600), 'future']]))] });
    expect(future.status).toBe(400);
    expect(await future.text()).toMatch(/^entry for stream '\{app="age"\}' has timestamp too new: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
  });

  it('writes the valid streams of a partly invalid push and answers 400', async () => {
    const res = await server.pushJson({
      streams: [
        stream(
          { app: 'partial', ok: 'yes' },
          values([
            [ns(3), 'kept'],
            [ns(2), 'y'.repeat(200)],
          ]),
        ),
        stream({}, values([[ns(3), 'dropped']])),
      ],
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('error at least one label pair is required per stream');
    expect(text).toContain("Max entry size '100' bytes exceeded");
    expect((await read(server, '{app="partial"}'))[0]!.values).toEqual([[ns(3), 'kept']]);
  });

  it('drops an entry its stream already holds (same time and line) silently, answering 204', async () => {
    const body = {
      streams: [
        stream(
          { app: 'dedup' },
          values([
            [ns(5), 'older'],
            [ns(4), 'same'],
            [ns(4), 'same'],
            [ns(4), 'other'],
          ]),
        ),
      ],
    };
    expect((await server.pushJson(body)).status).toBe(204);
    // an agent re-sending the batch, and the newest entry alone
    expect((await server.pushJson(body)).status).toBe(204);
    expect((await server.pushJson({ streams: [stream({ app: 'dedup' }, values([[ns(4), 'same']]))] })).status).toBe(204);
    expect((await read(server, '{app="dedup"}', { direction: 'forward' }))[0]!.values).toEqual([
      [ns(5), 'older'],
      [ns(4), 'same'],
      [ns(4), 'other'],
    ]);
    // stored once: index/stats counts the entries the ingester holds
    const stats = await server.get(`/loki/api/v1/index/stats?${qs({ query: '{app="dedup"}', start: ns(7200), end: ns(-60) })}`);
    expect(((await stats.json()) as { entries: number }).entries).toBe(3);
    // With log_duplicate_metrics, Loki counts the bytes of the duplicates its head block drops; repeats of
    // the newest entry it skips before that, uncounted. Here: 'older' and 'other' of the second push.
    expect(await (await server.get('/metrics')).text()).toMatch(/^loki_ingester_duplicate_log_bytes_total\{tenant="fake"\} 10$/m);
  });

  it("answers 405 with an empty body to the push paths' other methods, as Loki's router does", async () => {
    for (const route of ['/loki/api/v1/push', '/api/prom/push']) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await fetch(`${server.url}${route}`, { method });
        expect([route, method, res.status, await res.text()]).toEqual([route, method, 405, '']);
      }
    }
  });

  it("answers Loki's 400 for malformed bodies and a missing content type", async () => {
    const res = await server.pushJson('{"streams": [');
    expect(res.status).toBe(400);
    const noType = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    expect(noType.status).toBe(400);
    expect(await noType.text()).toBe('mime: no media type\n');
  });
});

describe('push limits that answer 413 and 429', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(`
distributor: {max_recv_msg_size: 64KB}
ingester: {max_chunk_age: 2h}
limits_config: {ingestion_rate_mb: 0.01, ingestion_burst_size_mb: 0.02, per_stream_rate_limit: 2KB, per_stream_rate_limit_burst: 4KB}
`);
  });
  afterAll(() => server.destroy());

  it('413 for a body over distributor.max_recv_msg_size', async () => {
    const res = await server.pushJson({ streams: [stream({ app: 'big' }, values([[ns(1), 'x'.repeat(70_000)]]))] });
    expect(res.status).toBe(413);
  });

  it("429 with Loki's text when the tenant ingestion rate is exceeded", async () => {
    const lines = Array.from({ length: 30 }, (_, i): [string, string] => [ns(1, i), 'z'.repeat(1000)]);
    const res = await server.pushJson({ streams: [stream({ app: 'flood' }, lines)] });
    expect(res.status).toBe(429);
    expect(await res.text()).toBe(
      "Ingestion rate limit exceeded for user fake (limit: 10485 bytes/sec) while attempting to ingest '30' lines totaling '30000' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n",
    );
  });

  it('429 for the per-stream rate limit, listing the rejected entries', async () => {
    const lines = Array.from({ length: 6 }, (_, i): [string, string] => [ns(2, i), String(i).repeat(1000)]);
    const res = await server.pushJson({ streams: [stream({ app: 'hot' }, lines)] });
    expect(res.status).toBe(429);
    const text = await res.text();
    expect(text).toMatch(
      /^entry with timestamp \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000000004 \+0000 UTC ignored, reason: 'Per stream rate limit exceeded \(limit: 2KB\/sec\) while attempting to ingest for stream '\{app="hot"\}' totaling 1000B, consider splitting/,
    );
    expect(text).toContain('user \'fake\', total ignored: 2 out of 6 for stream: {app="hot"}');
    // the four that fitted the burst were stored
    expect((await read(server, '{app="hot"}'))[0]!.values.length).toBe(4);
  });

  it('400 for entries too far behind the newest of their stream (max_chunk_age / 2)', async () => {
    expect((await server.pushJson({ streams: [stream({ app: 'ooo' }, values([[ns(0), 'newest']]))] })).status).toBe(204);
    expect((await server.pushJson({ streams: [stream({ app: 'ooo' }, values([[ns(1800), 'within window']]))] })).status).toBe(204);
    const res = await server.pushJson({ streams: [stream({ app: 'ooo' }, values([[ns(3700), 'too old']]))] });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(
      /ignored, reason: 'entry too far behind, entry timestamp is: \S+Z, oldest acceptable timestamp is: \S+Z',\nuser 'fake', total ignored: 1 out of 1 for stream: \{app="ooo"\}\n$/,
    );
    expect((await read(server, '{app="ooo"}', { direction: 'forward' }))[0]!.values.map((v) => v[1])).toEqual(['within window', 'newest']);
  });
});

describe('tenants', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('auth_enabled: true');
  });
  afterAll(() => server.destroy());

  it('401 without X-Scope-OrgID when auth is enabled', async () => {
    const res = await server.pushJson({ streams: [stream({ app: 'a' }, values([[ns(1), 'x']]))] });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('no org id\n');
    expect((await server.get('/loki/api/v1/labels')).status).toBe(401);
  });

  it("a tenant never sees another tenant's streams, labels or series", async () => {
    for (const tenant of ['team-a', 'team-b']) {
      const res = await server.pushJson(
        { streams: [stream({ app: tenant, [`only_${tenant.slice(-1)}`]: '1' }, values([[ns(1), `secret of ${tenant}`]]))] },
        { 'x-scope-orgid': tenant },
      );
      expect(res.status).toBe(204);
    }
    const a = { 'x-scope-orgid': 'team-a' };
    expect(await read(server, '{app=~".+"}', {}, a)).toEqual([{ stream: { app: 'team-a', only_a: '1' }, values: [[ns(1), 'secret of team-a']] }]);
    const range = qs({ start: ns(600), end: ns(-60) });
    expect(await (await server.get(`/loki/api/v1/labels?${range}`, a)).json()).toEqual({ status: 'success', data: ['app', 'only_a'] });
    expect(await (await server.get(`/loki/api/v1/label/app/values?${range}`, a)).json()).toEqual({ status: 'success', data: ['team-a'] });
    expect(await (await server.get(`/loki/api/v1/series?${range}&${qs({ 'match[]': '{app=~".+"}' })}`, a)).json()).toEqual({
      status: 'success',
      data: [{ app: 'team-a', only_a: '1' }],
    });
    // ... and the same after everything is flushed to the store
    expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
    expect(await read(server, '{app=~".+"}', {}, { 'x-scope-orgid': 'team-b' })).toEqual([
      { stream: { app: 'team-b', only_b: '1' }, values: [[ns(1), 'secret of team-b']] },
    ]);
    expect(await (await server.get(`/loki/api/v1/labels?${range}`, { 'x-scope-orgid': 'team-c' })).json()).toEqual({ status: 'success' });
  });

  it('rejects tenant IDs Loki rejects', async () => {
    const res = await server.pushJson({ streams: [stream({ app: 'a' }, values([[ns(1), 'x']]))] }, { 'x-scope-orgid': 'a/b' });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe("tenant ID 'a/b' contains unsupported character '/'\n");
  });
});

describe('the active stream limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('limits_config: {max_global_streams_per_user: 3}');
  });
  afterAll(() => server.destroy());

  it("refuses new streams past max_global_streams_per_user with Loki's 429, keeping the others", async () => {
    const res = await server.pushJson({ streams: ['a', 'b', 'c', 'd'].map((app) => stream({ app }, values([[ns(1), `line of ${app}`]]))) });
    expect(res.status).toBe(429);
    expect(await res.text()).toBe(
      'Maximum active stream limit exceeded when trying to create stream {app="d"}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: \'fake\'\n',
    );
    expect((await read(server, '{app=~".+"}')).map((s) => s.stream.app).sort()).toEqual(['a', 'b', 'c']);
    // existing streams keep taking data
    expect((await server.pushJson({ streams: [stream({ app: 'a' }, values([[ns(0), 'more']]))] })).status).toBe(204);
  });
});

describe('service_name discovery (Loki 3)', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Loki's default list, as when limits_config.discover_service_name is not set.
    server = await startTestServer(
      'limits_config: {discover_service_name: [service, app, application, name, app_kubernetes_io_name, container, container_name, component, workload, job]}',
    );
  });
  afterAll(() => server.destroy());

  it('adds service_name from the first listed label a stream has, else unknown_service, and keeps one that is set', async () => {
    const res = await server.pushJson({
      streams: [
        stream({ job: 'ns/x', app: 'trainer' }, values([[ns(3), 'from app']])),
        stream({ container: 'sidecar' }, values([[ns(2), 'from container']])),
        stream({ team: 'ml' }, values([[ns(1), 'nothing to use']])),
        stream({ service_name: 'given', app: 'other' }, values([[ns(0), 'already set']])),
      ],
    });
    expect(res.status).toBe(204);
    const got = (await read(server, '{service_name=~".+"}')).map((s) => s.stream).sort((a, b) => String(a.service_name).localeCompare(String(b.service_name)));
    expect(got).toEqual([
      { app: 'other', service_name: 'given' },
      { container: 'sidecar', service_name: 'sidecar' },
      { app: 'trainer', job: 'ns/x', service_name: 'trainer' },
      { service_name: 'unknown_service', team: 'ml' },
    ]);
  });
});
