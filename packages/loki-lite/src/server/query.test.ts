import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

const T = 1_795_132_800n; // 2026-11-20T00:00:00Z in seconds
const NS = 1_000_000_000n;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer('limits_config: {max_entries_limit_per_query: 150, max_query_length: 2h}');
  const values = (app: string, offset: number) => Array.from({ length: 10 }, (_, i) => [((T + BigInt(i * 10 + offset)) * NS).toString(), `${app} ${i}`]);
  const res = await server.pushJson({
    streams: [
      { stream: { app: 'a' }, values: values('a', 0) },
      { stream: { app: 'b' }, values: values('b', 5) },
    ],
  });
  expect(res.status).toBe(204);
});
afterAll(() => server.destroy());

type Streams = Array<{ stream: Record<string, string>; values: string[][] }>;
async function query(params: Record<string, string | number | bigint>) {
  const res = await server.get(`/loki/api/v1/query_range?${qs(params)}`);
  return { status: res.status, text: await res.text() };
}
const lines = (text: string) => (JSON.parse(text) as { data: { result: Streams } }).data.result.flatMap((s) => s.values.map((v) => v[1]));

describe('query_range parameters', () => {
  it.each([
    ['ns', (T * NS).toString(), ((T + 50n) * NS).toString()],
    ['seconds', T.toString(), (T + 50n).toString()],
    ['float seconds', `${T}.000`, `${T + 50n}.0`],
    ['RFC3339', '2026-11-20T00:00:00Z', '2026-11-20T00:00:50Z'],
  ])('reads start/end as %s; start inclusive, end exclusive', async (_form, start, end) => {
    const r = await query({ query: '{app="a"}', start, end, direction: 'forward' });
    expect(r.status).toBe(200);
    expect(lines(r.text)).toEqual(['a 0', 'a 1', 'a 2', 'a 3', 'a 4']);
  });

  it('keeps the newest entries across streams for backward, the oldest for forward', async () => {
    const range = { start: T, end: T + 200n, limit: 3 };
    expect(lines((await query({ query: '{app=~"a|b"}', ...range })).text).sort()).toEqual(['a 9', 'b 8', 'b 9']);
    expect(lines((await query({ query: '{app=~"a|b"}', ...range, direction: 'forward' })).text).sort()).toEqual(['a 0', 'a 1', 'b 0']);
    const backward = JSON.parse((await query({ query: '{app="a"}', ...range })).text) as { data: { result: Streams } };
    expect(backward.data.result[0]!.values.map((v) => v[1])).toEqual(['a 9', 'a 8', 'a 7']);
  });

  it('accepts POST with a form body like Grafana sends', async () => {
    const res = await fetch(`${server.url}/loki/api/v1/query_range`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: qs({ query: '{app="b"} |= "b 3"', start: T, end: T + 200n }),
    });
    expect(res.status).toBe(200);
    expect(lines(await res.text())).toEqual(['b 3']);
  });

  it.each([
    [{ limit: 0 }, 'limit must be a positive value'],
    [{ limit: 'ten' }, 'strconv.ParseInt: parsing "ten": invalid syntax'],
    [{ direction: 'sideways' }, "invalid direction 'sideways'"],
    [{ start: String(T + 100n), end: String(T) }, 'end timestamp must not be before or equal to start time'],
    [{ limit: 151 }, 'max entries limit per query exceeded, limit > max_entries_limit_per_query (151 > 150)'],
    [{ start: String(T), end: String(T + 3n * 3600n) }, 'the query time range exceeds the limit (query length: 3h, limit: 2h)'],
    [{ start: 'yesterday' }, 'invalid start: cannot parse "yesterday" to a valid timestamp'],
    [
      { query: '{app=~".*"}' },
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    ],
    [{ query: '{app=}' }, 'parse error at line 1, col 6: syntax error: unexpected }, expecting STRING'],
    [{ query: '{app="a"} |= ' }, 'parse error at line 1, col 14: syntax error: unexpected $end, expecting STRING'],
    [{ query: 'avg_over_time({app="a"}[1m])' }, 'parse error : invalid aggregation avg_over_time without unwrap'],
    [{ query: 'count_over_time({app="a"} | unwrap x [1m])' }, 'parse error : invalid aggregation count_over_time with unwrap'],
    [{ query: 'sum_over_time({app="a"} | unwrap x [1m]) by (a)' }, 'parse error : grouping not allowed for sum_over_time aggregation'],
  ])('answers 400 for %j', async (params, message) => {
    const r = await query({ query: '{app="a"}', start: T, end: T + 100n, ...params });
    expect(r.status).toBe(400);
    expect(r.text).toBe(message + '\n');
  });

  it('refuses log queries on the instant endpoint like Loki 3', async () => {
    const res = await server.get(`/loki/api/v1/query?${qs({ query: '{app="a"}', time: T })}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('log queries are not supported as an instant query type, please change your query to a range query type\n');
  });
});

describe('sample expressions', () => {
  it("answers Grafana's data source health check like Loki", async () => {
    const res = await server.get('/loki/api/v1/query?query=vector(1)%2Bvector(1)&time=4000000000');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; data: { resultType: string; result: unknown } };
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result).toEqual([{ metric: {}, value: [4000000000, '2'] }]);
  });

  it('answers a scalar instant query with a scalar', async () => {
    const body = (await (await server.get(`/loki/api/v1/query?${qs({ query: '1 + 2 * 3', time: '1795132800.5' })}`)).json()) as { data: unknown };
    expect(body.data).toMatchObject({ resultType: 'scalar', result: [1795132800.5, '7'] });
  });

  it('evaluates a range query at start, start+step, ... end into a matrix', async () => {
    const res = await server.get(`/loki/api/v1/query_range?${qs({ query: 'vector(5) > bool vector(3)', start: T, end: T + 600n, step: '300' })}`);
    const body = (await res.json()) as { data: unknown };
    expect(body.data).toMatchObject({
      resultType: 'matrix',
      result: [
        {
          metric: {},
          values: [
            [Number(T), '1'],
            [Number(T) + 300, '1'],
            [Number(T) + 600, '1'],
          ],
        },
      ],
    });
    const dflt = (await (await server.get(`/loki/api/v1/query_range?${qs({ query: '2 ^ 10 % 7', start: T, end: T + 1000n })}`)).json()) as {
      data: { result: Array<{ values: unknown[][] }> };
    };
    expect(dflt.data.result[0]!.values.slice(0, 2)).toEqual([
      [Number(T), '2'],
      [Number(T) + 4, '2'],
    ]); // default step: 1000s / 250
  });

  it.each([
    [{ step: '0' }, 'zero or negative query resolution step widths are not accepted. Try a positive integer'],
    [{ step: '0.001' }, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    [{ step: 'soon' }, 'invalid step: cannot parse "soon" to a valid duration'],
    [{ step: '1e400' }, 'invalid step: cannot parse "1e400" to a valid duration'],
    [{ step: '1e10' }, 'invalid step: cannot parse "1e10" to a valid duration. It overflows int64'],
    [{ query: '1 > 2' }, 'comparisons between scalars must use BOOL modifier'],
  ])('answers 400 for %j', async (params, message) => {
    const res = await server.get(`/loki/api/v1/query_range?${qs({ query: 'vector(1)', start: T, end: T + 600n, ...params })}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(message + '\n');
  });
});

/*
 * Loki 2.8's query frontend rounds a metric range query's start down and its end up to a multiple of the
 * step (counted from the epoch) before the engine evaluates at start, start+step, ... end; with
 * query_range.align_queries_with_step it rounds both down first; with split_queries_by_interval: 0 it
 * does neither. T is a multiple of 150 s, and T mod 7 = 6, T mod 61 = 34, T mod 3601 = 1891. The data:
 * "a i" at T+10i, "b i" at T+5+10i (i = 0..9). Evaluation times below avoid entry times, so the counts
 * do not depend on which end of the window is closed.
 */
describe('metric range queries aligned to the step', () => {
  type Matrix = { data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
  const matrix = async (target: TestServer, params: Record<string, string | bigint>) => {
    const res = await target.get(`/loki/api/v1/query_range?${qs(params)}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as Matrix).data.result;
  };
  const t = (seconds: number) => Number(T) + seconds;
  const BOTH = 'sum(count_over_time({app=~"a|b"}[1h]))';
  const B = 'count_over_time({app="b"}[1h])';

  it('7s from an RFC3339 start: T+3 rounds down to T+1, T+60 up to T+64, ten points instead of nine', async () => {
    const result = await matrix(server, { query: BOTH, start: '2026-11-20T00:00:03Z', end: '2026-11-20T00:01:00Z', step: '7s' });
    expect(result[0]!.values.map((v) => v[0])).toEqual([1, 8, 15, 22, 29, 36, 43, 50, 57, 64].map(t));
  });

  it('61s from a fractional start: T+5.25 rounds down to T-34 (no entries yet, so no point), T+200 up to T+210', async () => {
    const result = await matrix(server, { query: BOTH, start: `${T + 5n}.25`, end: (T + 200n).toString(), step: '61' });
    expect(result).toEqual([
      {
        metric: {},
        values: [
          [t(27), '6'],
          [t(88), '18'],
          [t(149), '20'],
          [t(210), '20'],
        ],
      },
    ]);
  });

  it('2m30s from a start with nanoseconds: T+0.123456789 rounds down to T, T+400 up to T+450', async () => {
    const result = await matrix(server, { query: B, start: (T * NS + 123_456_789n).toString(), end: (T + 400n).toString(), step: '2m30s' });
    expect(result).toEqual([
      {
        metric: { app: 'b' },
        values: [
          [t(150), '10'],
          [t(300), '10'],
          [t(450), '10'],
        ],
      },
    ]);
  });

  it('3601s, a step longer than the split interval: T+30.5 rounds down to T-1891, T+3000 up to T+5311', async () => {
    const result = await matrix(server, { query: B, start: '2026-11-20T00:00:30.5Z', end: (T + 3000n).toString(), step: '3601s' });
    // T-1891 and T+5311 see no entry of b in the hour before them; T+1710 sees all ten.
    expect(result).toEqual([{ metric: { app: 'b' }, values: [[t(1710), '10']] }]);
  });

  it('leaves a range already on the step as asked', async () => {
    const result = await matrix(server, { query: B, start: (T + 150n).toString(), end: (T + 300n).toString(), step: '150' });
    expect(result[0]!.values.map((v) => v[0])).toEqual([t(150), t(300)]);
  });

  it('align_queries_with_step rounds the end down instead; split_queries_by_interval: 0 aligns nothing', async () => {
    const params = { query: BOTH, start: `${T + 5n}.25`, end: (T + 200n).toString(), step: '61' };
    const push = {
      streams: [
        { stream: { app: 'a' }, values: Array.from({ length: 10 }, (_, i) => [((T + BigInt(10 * i)) * NS).toString(), `a ${i}`]) },
        { stream: { app: 'b' }, values: Array.from({ length: 10 }, (_, i) => [((T + BigInt(10 * i + 5)) * NS).toString(), `b ${i}`]) },
      ],
    };
    const aligned = await startTestServer('query_range: {align_queries_with_step: true}');
    try {
      expect((await aligned.pushJson(push)).status).toBe(204);
      expect(await matrix(aligned, params)).toEqual([
        {
          metric: {},
          values: [
            [t(27), '6'],
            [t(88), '18'],
            [t(149), '20'],
          ],
        },
      ]);
    } finally {
      await aligned.destroy();
    }
    const unsplit = await startTestServer('limits_config: {split_queries_by_interval: 0}');
    try {
      expect((await unsplit.pushJson(push)).status).toBe(204);
      expect(await matrix(unsplit, params)).toEqual([
        {
          metric: {},
          values: [
            [t(5.25), '2'],
            [t(66.25), '14'],
            [t(127.25), '20'],
            [t(188.25), '20'],
          ],
        },
      ]);
    } finally {
      await unsplit.destroy();
    }
  });

  it('leaves instant queries and log queries alone', async () => {
    const body = (await (await server.get(`/loki/api/v1/query?${qs({ query: B, time: `${T + 27n}.5` })}`)).json()) as {
      data: { result: Array<{ value: [number, string] }> };
    };
    expect(body.data.result[0]!.value).toEqual([t(27.5), '3']);
    expect(lines((await query({ query: '{app="a"}', start: (T + 3n).toString(), end: (T + 21n).toString(), step: '7', direction: 'forward' })).text)).toEqual([
      'a 1',
      'a 2',
    ]);
  });
});

describe('drop and keep', () => {
  it("answers Grafana Explore's logs-volume query", async () => {
    const query = 'sum by (level, detected_level) (count_over_time({app=~"a|b"} | drop __error__ [1m]))';
    const res = await fetch(`${server.url}/loki/api/v1/query_range?${qs({ query, start: T + 60n, end: T + 120n, step: '60' })}`, {
      headers: { 'X-Query-Tags': 'Source=logvolhist' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: unknown };
    // (T, T+60]: a at 10..60 and b at 5..55 (6 + 6); (T+60, T+120]: a at 70..90, b at 65..95 (3 + 4)
    expect(body.data).toMatchObject({
      resultType: 'matrix',
      result: [
        {
          metric: {},
          values: [
            [Number(T) + 60, '12'],
            [Number(T) + 120, '7'],
          ],
        },
      ],
    });
  });

  it('merges streams whose labels become equal, in log queries and in metric queries', async () => {
    const logs = JSON.parse((await query({ query: '{app=~"a|b"} |= " 1" | drop app', start: T, end: T + 200n, direction: 'forward' })).text) as {
      data: { result: Streams };
    };
    expect(logs.data.result).toEqual([
      {
        stream: {},
        values: [
          [((T + 10n) * NS).toString(), 'a 1'],
          [((T + 15n) * NS).toString(), 'b 1'],
        ],
      },
    ]);
    const kept = JSON.parse((await query({ query: '{app=~"a|b"} |= " 1" | keep app="b"', start: T, end: T + 200n })).text) as { data: { result: Streams } };
    expect(kept.data.result.map((r) => r.stream)).toEqual(expect.arrayContaining([{ app: 'b' }, {}]));
    const counts = await server.get(`/loki/api/v1/query?${qs({ query: 'count_over_time({app=~"a|b"} | drop app [200s])', time: T + 200n })}`);
    // every line but a's at T itself, which is outside (T, T+200]
    expect(((await counts.json()) as { data: { result: unknown } }).data.result).toEqual([{ metric: {}, value: [Number(T) + 200, '19'] }]);
  });
});

describe('operational endpoints', () => {
  it('/ready, build info and Go-style 404', async () => {
    expect(await (await server.get('/ready')).text()).toBe('ready\n');
    expect(await (await server.get('/loki/api/v1/status/buildinfo')).json()).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const missing = await server.get('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('404 page not found\n');
  });

  it('/metrics exposes ingest, rejection, stream, flush and WAL metrics', async () => {
    await server.pushJson({ streams: [{ stream: {}, values: [[(T * NS).toString(), 'x']] }] });
    const text = await (await server.get('/metrics')).text();
    expect(text).toMatch(/^loki_distributor_bytes_received_total\{tenant="fake"\} \d+/m);
    expect(text).toMatch(/^loki_distributor_lines_received_total\{tenant="fake"\} 21$/m);
    expect(text).toMatch(/^loki_discarded_samples_total\{reason="missing_labels",tenant="fake"\} 1$/m);
    expect(text).toMatch(/^loki_ingester_memory_streams\{tenant="fake"\} 2$/m);
    expect(text).toMatch(/^loki_ingester_memory_chunks 2$/m); // one open chunk per stream
    expect(text).toMatch(/^loki_ingester_wal_fsync_duration_seconds_count [1-9]/m);
    expect(text).toContain('# TYPE loki_ingester_chunks_flushed_total counter');
    expect(text).toContain('# TYPE loki_ingester_chunks_flush_failures_total counter');
  });
});

describe('categorize-labels', () => {
  beforeAll(async () => {
    const ts = ((T + 100n) * NS).toString();
    const res = await server.pushJson({
      streams: [
        {
          stream: { app: 'cat' },
          values: [
            [ts, 'level=warn msg=hot', { trace_id: 't1' }],
            [(BigInt(ts) + 1n).toString(), 'level=info'],
          ],
        },
      ],
    });
    expect(res.status).toBe(204);
  });
  const range = { query: '{app="cat"} | logfmt', start: T, end: T + 200n, direction: 'forward' };

  it('with the flag: streams by indexed labels, each entry with its structured metadata and parsed labels', async () => {
    const res = await server.get(`/loki/api/v1/query_range?${qs(range)}`, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    const body = JSON.parse(await res.text()) as { data: { encodingFlags: string[]; result: unknown } };
    expect(body.data.encodingFlags).toEqual(['categorize-labels']);
    expect(body.data.result).toEqual([
      {
        stream: { app: 'cat' },
        values: [
          [((T + 100n) * NS).toString(), 'level=warn msg=hot', { structuredMetadata: { trace_id: 't1' }, parsed: { level: 'warn', msg: 'hot' } }],
          [((T + 100n) * NS + 1n).toString(), 'level=info', { parsed: { level: 'info' } }],
        ],
      },
    ]);
  });

  it('without it: every label merged into the stream, one stream per label set', async () => {
    const body = JSON.parse((await query(range)).text) as { data: { encodingFlags?: unknown; result: Streams } };
    expect(body.data.encodingFlags).toBeUndefined();
    expect(body.data.result.map((s) => s.stream)).toEqual(
      expect.arrayContaining([
        { app: 'cat', level: 'warn', msg: 'hot', trace_id: 't1' },
        { app: 'cat', level: 'info' },
      ]),
    );
  });
});

describe('index/volume and index/volume_range', () => {
  // app a and app b: 10 lines of 3 bytes each, 10 s apart, in the same chunk per stream.
  const range = { start: T, end: T + 200n };
  const get = async (path: string, params: Record<string, string | bigint>) =>
    JSON.parse(await (await server.get(`/loki/api/v1/index/${path}?${qs(params)}`)).text());

  it("sums line bytes per value of the selector's labels, largest first, at the end time", async () => {
    expect(await get('volume', { query: '{app=~"a|b"}', ...range })).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { app: 'a' }, value: [Number(T + 200n), '30'] },
          { metric: { app: 'b' }, value: [Number(T + 200n), '30'] },
        ],
      },
    });
  });

  it('groups by targetLabels, per label name with aggregateBy=labels, and cuts at limit', async () => {
    expect((await get('volume', { query: '{app=~"a|b"}', targetLabels: 'nope', ...range })).data.result).toEqual([]); // target labels are required
    expect((await get('volume', { query: '{app=~"a|b"}', aggregateBy: 'labels', ...range })).data.result).toEqual([
      { metric: { app: '' }, value: [Number(T + 200n), '60'] },
    ]);
    expect((await get('volume', { query: '{app=~"a|b"}', limit: '1', ...range })).data.result).toHaveLength(1);
  });

  it('volume_range: one volume per step interval, stamped at its last millisecond (the last at end); a matrix once a group has two', async () => {
    const one = await get('volume_range', { query: '{app="a"}', start: T, end: T + 300n, step: '200' });
    expect(one.data).toEqual({ resultType: 'vector', result: [{ metric: { app: 'a' }, value: [Number(T) + 199.999, '30'] }] });
    const two = await get('volume_range', { query: '{app="a"}', start: T, end: T + 100n, step: '50' });
    expect(two.data).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: { app: 'a' },
          values: [
            [Number(T) + 49.999, '30'],
            [Number(T) + 100, '30'],
          ],
        },
      ],
    });
  });
});

describe('max_query_series', () => {
  it("refuses a metric answer with more series than the limit, in Loki's words", async () => {
    const limited = await startTestServer('limits_config: {max_query_series: 1}');
    try {
      await limited.pushJson({
        streams: [
          { stream: { app: 'a' }, values: [[(T * NS).toString(), 'x']] },
          { stream: { app: 'b' }, values: [[(T * NS).toString(), 'y']] },
        ],
      });
      const q = (query: string) => limited.get(`/loki/api/v1/query_range?${qs({ query, start: T, end: T + 60n, step: 60 })}`);
      const over = await q('count_over_time({app=~"a|b"}[1m])');
      expect(over.status).toBe(400);
      expect(await over.text()).toBe('maximum of series (1) reached for a single query\n');
      expect((await q('sum(count_over_time({app=~"a|b"}[1m]))')).status).toBe(200);
    } finally {
      await limited.destroy();
    }
  });
});

describe('what a query carries to its shards', () => {
  it('keeps byte sizes and durations exact (the printed form rounds 1234B to 1.2kB and drops nanoseconds)', async () => {
    const at = (T + 1000n) * NS;
    const res = await server.pushJson({
      streams: [
        {
          stream: { app: 'sizes' },
          values: [
            [at.toString(), 'size=1210B'],
            [(at + 50n).toString(), 'size=1300B'],
          ],
        },
      ],
    });
    expect(res.status).toBe(204);
    const range = { start: T + 999n, end: T + 1001n, direction: 'forward' };
    expect(lines((await query({ query: '{app="sizes"} | logfmt | size > 1234B', ...range })).text)).toEqual(['size=1300B']);
    // A 100 ns window ending 1 ns after the first line holds that line only (a line at the query's time is not read).
    const instant = await server.get(`/loki/api/v1/query?${qs({ query: 'count_over_time({app="sizes"}[100ns])', time: at + 1n })}`);
    expect(((await instant.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result.map((r) => r.value[1])).toEqual(['1']);
  });
});

describe('log query limits count lines of the answer', () => {
  it('counts lines that the pipeline makes the same (timestamp and line) once, as the answer holds them once', async () => {
    const at = (T + 2000n) * NS;
    const values = [
      [at, 'a x'],
      [at, 'b x'],
      [at + 1n, 'c x'],
    ].map(([t, l]) => [String(t), l as string]);
    expect((await server.pushJson({ streams: [{ stream: { app: 'same' }, values }] })).status).toBe(204);
    const r = await query({ query: '{app="same"} | line_format "same"', start: T + 1999n, end: T + 2001n, limit: 2, direction: 'forward' });
    const result = (JSON.parse(r.text) as { data: { result: Streams } }).data.result;
    expect(result.flatMap((s) => s.values)).toEqual([
      [String(at), 'same'],
      [String(at + 1n), 'same'],
    ]);
  });
});
