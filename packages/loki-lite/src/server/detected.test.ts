import { nowNanos } from '@loki-lite/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

let server: TestServer;
const now = nowNanos();
const at = (s: number) => (now - BigInt(60 - s) * 1_000_000_000n).toString();

beforeAll(async () => {
  server = await startTestServer();
  const res = await server.pushJson({
    streams: [
      {
        stream: { app: 'api', namespace: 'prod', pod: 'api-1' },
        values: [
          [at(1), 'level=info latency=12ms size=2KB status=200 msg="ok"', { trace_id: 'abc' }],
          [at(2), 'level=error latency=1.5s size=10KB status=500 msg="boom"', { trace_id: 'def' }],
        ],
      },
      { stream: { app: 'loader', namespace: 'prod', pod: 'loader-1' }, values: [[at(3), '{"level":"warn","batch":{"ms":3.5},"ok":true}']] },
      { stream: { app: 'plain', namespace: 'dev', pod: '12' }, values: [[at(4), 'nothing structured here']] },
    ],
  });
  expect(res.status).toBe(204);
});
afterAll(() => server.destroy());

const get = async (path: string, params: Record<string, string>) => {
  const res = await server.get(`/loki/api/v1/${path}?${qs(params)}`);
  return { status: res.status, body: JSON.parse(await res.text()) as Record<string, unknown> };
};

describe('detected_fields', () => {
  it('types each field, counts its values, names the parser; structured metadata has none; stream labels are left out', async () => {
    const { status, body } = await get('detected_fields', { query: '{namespace=~".+"}', since: '1h' });
    expect(status).toBe(200);
    // Parsers are listed in the order the streams were read; compare them as a set.
    const fields = Object.fromEntries(
      (body.fields as Array<{ label: string; parsers: string[] | null }>).map((f) => [f.label, { ...f, parsers: f.parsers && [...f.parsers].sort() }]),
    );
    expect(fields).toEqual({
      trace_id: { label: 'trace_id', type: 'string', cardinality: 2, parsers: null },
      level: { label: 'level', type: 'string', cardinality: 3, parsers: ['json', 'logfmt'] },
      latency: { label: 'latency', type: 'duration', cardinality: 2, parsers: ['logfmt'] },
      size: { label: 'size', type: 'bytes', cardinality: 2, parsers: ['logfmt'] },
      status: { label: 'status', type: 'int', cardinality: 2, parsers: ['logfmt'] },
      msg: { label: 'msg', type: 'string', cardinality: 2, parsers: ['logfmt'] },
      batch_ms: { label: 'batch_ms', type: 'float', cardinality: 1, parsers: ['json'] },
      ok: { label: 'ok', type: 'boolean', cardinality: 1, parsers: ['json'] },
    });
    expect(body.limit).toBe(1000);
  });

  it("lists one field's values", async () => {
    const { body } = await get('detected_field/level/values', { query: '{namespace="prod"}', since: '1h' });
    expect((body.values as string[]).sort()).toEqual(['error', 'info', 'warn']);
  });
});

describe('detected_labels', () => {
  it('offers labels with their cardinality, leaving out labels whose values all look like IDs unless Loki always shows them', async () => {
    const { body } = await get('detected_labels', { query: '{namespace=~".+"}', since: '1h' });
    expect(body).toEqual({
      detectedLabels: [
        { label: 'app', cardinality: 3 },
        { label: 'namespace', cardinality: 2 },
        { label: 'pod', cardinality: 3 },
      ],
    });
  });
});
