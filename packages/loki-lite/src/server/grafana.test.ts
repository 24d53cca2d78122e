import { nowNanos } from '@loki-lite/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * The requests Grafana's Loki data source (11.x) and Logs Drilldown send, with their exact parameters
 * and headers, in the order a user triggers them: "Save & test", the label browser, Explore's logs and
 * logs-volume panels, a metric panel, Drilldown's service list and field tabs. Each must answer 200 in
 * the shape Grafana parses.
 */
let server: TestServer;
const now = nowNanos();
const ns = (secondsAgo: number) => (now - BigInt(secondsAgo) * 1_000_000_000n).toString();
const start = ns(3600);
const end = now.toString();
const grafanaHeaders = { 'X-Query-Tags': 'Source=grafana-explore', 'X-Grafana-Org-Id': '1' };

beforeAll(async () => {
  // As Loki 3 runs by default: detected_level on (the logs volume and Drilldown group by it).
  server = await startTestServer('limits_config: {discover_log_levels: true}');
  const values = (pod: string) =>
    Array.from({ length: 30 }, (_, i) => [ns(1800 - i * 60), `level=${i % 3 ? 'info' : 'error'} pod=${pod} step=${i} msg="train step"`]);
  const res = await server.pushJson({
    streams: [
      { stream: { app: 'trainer', namespace: 'training', pod: 'w-0', service_name: 'trainer' }, values: values('w-0') },
      { stream: { app: 'trainer', namespace: 'training', pod: 'w-1', service_name: 'trainer' }, values: values('w-1') },
    ],
  });
  expect(res.status).toBe(204);
});
afterAll(() => server.destroy());

async function get(path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await server.get(`${path}?${new URLSearchParams(params)}`, { ...grafanaHeaders, ...headers });
  const text = await res.text();
  expect(res.status, `${path} ${JSON.stringify(params)}: ${text}`).toBe(200);
  return JSON.parse(text) as { status?: string; data?: { resultType?: string; result?: unknown[]; encodingFlags?: string[] } } & Record<string, unknown>;
}

describe('Grafana data source and Logs Drilldown requests', () => {
  it('Save & test', async () => {
    const body = await get('/loki/api/v1/query', { query: 'vector(1)+vector(1)', time: '4000000000' });
    expect(body.data).toMatchObject({ resultType: 'vector', result: [{ metric: {}, value: [4000000000, '2'] }] });
  });

  it('label browser: names, values with a selector, series', async () => {
    expect((await get('/loki/api/v1/labels', { start, end })).data).toEqual(['app', 'namespace', 'pod', 'service_name']);
    expect((await get('/loki/api/v1/label/pod/values', { start, end, query: '{app="trainer"}' })).data).toEqual(['w-0', 'w-1']);
    expect((await get('/loki/api/v1/series', { 'match[]': '{app="trainer"}', start, end })).data).toHaveLength(2);
  });

  it('Explore: logs with categorize-labels, the logs volume histogram, and query stats', async () => {
    const logs = await get(
      '/loki/api/v1/query_range',
      {
        direction: 'backward',
        end,
        limit: '1000',
        query: '{app="trainer"} | logfmt | level="error"',
        start,
        step: '2000ms',
      },
      { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    );
    expect(logs.data?.resultType).toBe('streams');
    expect(logs.data?.encodingFlags).toEqual(['categorize-labels']);
    const first = (logs.data?.result as Array<{ stream: Record<string, string>; values: unknown[][] }>)[0]!;
    expect(first.stream).not.toHaveProperty('level');
    expect(first.values[0]![2]).toMatchObject({ structuredMetadata: { detected_level: 'error' }, parsed: { level: 'error', step: expect.any(String) } });
    expect((logs.data as { stats?: { summary?: unknown } }).stats?.summary).toMatchObject({ totalLinesProcessed: 60 });

    const volume = await get(
      '/loki/api/v1/query_range',
      {
        direction: 'backward',
        end,
        query: 'sum by (level, detected_level) (count_over_time({app="trainer"} | drop __error__[1m]))',
        start,
        step: '60000ms',
      },
      { 'X-Query-Tags': 'Source=logvolhist' },
    );
    expect(volume.data?.resultType).toBe('matrix');
    // detected_level from the logfmt level field of each line; the stream has no level label.
    const bars = volume.data?.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
    expect(bars.map((b) => b.metric).sort((a, b) => (a.detected_level! < b.detected_level! ? -1 : 1))).toEqual([
      { detected_level: 'error' },
      { detected_level: 'info' },
    ]);
    expect(bars.flatMap((b) => b.values.map((v) => Number(v[1]))).reduce((a, b) => a + b, 0)).toBe(60);
    for (const b of bars) for (const [t, v] of b.values) expect([typeof t, typeof v]).toEqual(['number', 'string']);
    expect((await get('/loki/api/v1/index/stats', { query: '{app="trainer"}', start, end })).streams).toBe(2);
  });

  it('a metric panel over parsed labels', async () => {
    const body = await get('/loki/api/v1/query_range', {
      query: 'sum by (level) (count_over_time({app="trainer"} | logfmt [5m]))',
      start,
      end,
      step: '300',
    });
    const series = body.data?.result as Array<{ metric: Record<string, string> }>;
    expect(series.map((s) => s.metric.level).sort()).toEqual(['error', 'info']);
  });

  it("the query editor's Format button (format_query)", async () => {
    expect(await get('/loki/api/v1/format_query', { query: 'sum by (pod) (rate({app="trainer"} |= "x" [5m]))' })).toEqual({
      status: 'success',
      data: 'sum by(pod)(rate({app="trainer"} |= "x"[5m]))',
    });
    const bad = await server.get('/loki/api/v1/format_query?query=%7Bapp%3D', grafanaHeaders);
    expect(bad.status).toBe(400);
  });

  it('Drilldown: service volume, detected labels and fields', async () => {
    const volume = await get('/loki/api/v1/index/volume', {
      query: '{service_name=~".+"}',
      start,
      end,
      limit: '5000',
      targetLabels: 'service_name',
      aggregateBy: 'series',
    });
    expect(volume.data?.result).toEqual([{ metric: { service_name: 'trainer' }, value: [expect.any(Number), expect.any(String)] }]);
    const labels = await get('/loki/api/v1/detected_labels', { query: '{service_name="trainer"}', start, end });
    expect(labels.detectedLabels).toEqual(expect.arrayContaining([{ label: 'pod', cardinality: 2 }]));
    const fields = await get('/loki/api/v1/detected_fields', { query: '{service_name="trainer"}', start, end, line_limit: '1000' });
    expect(fields.fields).toEqual(expect.arrayContaining([{ label: 'step', type: 'int', cardinality: 30, parsers: ['logfmt'] }]));
  });
});
