import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

/* Loki's multi-tenant queries: X-Scope-OrgID `a|b` with querier.multi_tenant_queries_enabled. */

const now = BigInt(Date.now()) * 1_000_000n;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer('auth_enabled: true\nquerier: {multi_tenant_queries_enabled: true}');
  for (const [tenant, lines] of [
    ['team-a', ['a one', 'a two']],
    ['team-b', ['b one']],
  ] as const) {
    const res = await server.pushJson(
      { streams: [{ stream: { app: 'train' }, values: lines.map((l, i) => [(now + BigInt(i)).toString(), l]) }] },
      { 'X-Scope-OrgID': tenant },
    );
    expect(res.status).toBe(204);
  }
});
afterAll(() => server.destroy());

type Streams = { data: { result: Array<{ stream: Record<string, string>; values: string[][] }> } };
const range = { start: now - 1n, end: now + 10n ** 12n, limit: 100, direction: 'forward' };

async function logs(orgId: string, query: string): Promise<Array<[Record<string, string>, string[]]>> {
  const res = await server.get(`/loki/api/v1/query_range?${qs({ query, ...range })}`, { 'X-Scope-OrgID': orgId });
  expect(res.status).toBe(200);
  const body = (await res.json()) as Streams;
  return body.data.result.map((s) => [s.stream, s.values.map((v) => v[1]!)]);
}

describe('multi-tenant queries', () => {
  it("answers a|b with each tenant's streams labelled __tenant_id__, in memory and after a flush; the selector may pick tenants", async () => {
    for (const phase of ['memory', 'flushed']) {
      if (phase === 'flushed') expect((await fetch(`${server.url}/flush`, { method: 'POST', headers: { 'X-Scope-OrgID': 'team-a' } })).status).toBe(204);
      expect(await logs('team-b|team-a', '{app="train"}'), phase).toEqual([
        [{ __tenant_id__: 'team-a', app: 'train' }, ['a one', 'a two']],
        [{ __tenant_id__: 'team-b', app: 'train' }, ['b one']],
      ]);
      expect(await logs('team-a|team-b', '{app="train", __tenant_id__="team-b"}'), phase).toEqual([[{ __tenant_id__: 'team-b', app: 'train' }, ['b one']]]);
      // one tenant: no label added, as in Loki
      expect(await logs('team-a', '{app="train"}'), phase).toEqual([[{ app: 'train' }, ['a one', 'a two']]]);
    }
    const res = await server.get(`/loki/api/v1/query?${qs({ query: 'sum by (__tenant_id__) (count_over_time({app="train"}[1h]))', time: now + 10n ** 9n })}`, {
      'X-Scope-OrgID': 'team-a|team-b',
    });
    const vector = (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    expect(vector.data.result.map((r) => [r.metric, r.value[1]])).toEqual([
      [{ __tenant_id__: 'team-a' }, '2'],
      [{ __tenant_id__: 'team-b' }, '1'],
    ]);
  });

  it('answers labels, label values and series for a|b, with __tenant_id__', async () => {
    const get = async (path: string, params: Record<string, string | bigint>) => {
      const res = await server.get(`${path}?${qs({ start: now - 1n, end: now + 10n ** 12n, ...params })}`, { 'X-Scope-OrgID': 'team-a|team-b' });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: unknown }).data;
    };
    expect(await get('/loki/api/v1/labels', {})).toEqual(['__tenant_id__', 'app']);
    expect(await get('/loki/api/v1/label/__tenant_id__/values', {})).toEqual(['team-a', 'team-b']);
    expect(await get('/loki/api/v1/series', { 'match[]': '{app="train", __tenant_id__="team-b"}' })).toEqual([{ __tenant_id__: 'team-b', app: 'train' }]);
  });

  it("answers Loki's 400 for a|b when multi-tenant queries are off, and for a push", async () => {
    const single = await startTestServer('auth_enabled: true');
    try {
      const res = await single.get(`/loki/api/v1/query_range?${qs({ query: '{app="train"}', ...range })}`, { 'X-Scope-OrgID': 'team-a|team-b' });
      expect(res.status).toBe(400);
      expect(await res.text()).toBe('multiple org IDs present\n');
    } finally {
      await single.destroy();
    }
    const push = await server.pushJson({ streams: [{ stream: { app: 'x' }, values: [[now.toString(), 'x']] }] }, { 'X-Scope-OrgID': 'team-a|team-b' });
    expect(push.status).toBe(400);
  });
});
