import { gzipSync } from 'node:zlib';
import { encodePushRequestJson, encodePushRequestProto, snappyCompress } from '@loki-lite/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_QUERY_DEPTH } from '../logql/syntax/parser.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * The nastiest inputs the fuzz tests (query-fuzz, push-body-fuzz) were built around, and query parameters
 * out of every range, through a real server: each answers a 4xx in Loki's error shape (text/plain, the message and a newline), the deepest
 * queries still allowed answer 200, and the server keeps serving.
 */

const T = 1_795_132_800n; // 2026-11-20T00:00:00Z
const NS = 1_000_000_000n;
const MAX_RECV = 1024 * 1024;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(`distributor: {max_recv_msg_size: ${MAX_RECV}}`);
  const line = (app: string, text: string, i: number) => ({
    labels: `{app="${app}"}`,
    entries: [{ timestamp: (T + BigInt(i)) * NS, line: text, structuredMetadata: [] }],
  });
  const res = await server.pushProto({
    streams: [line('deep', 'x=1', 0), line('deep', 'x=2', 10), line('deep-json', `${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}`, 0)],
  });
  expect(res.status, await res.text()).toBe(204);
});
afterAll(() => server?.destroy());

/** POSTs a form, as Grafana does for long queries (a URL this long is over node's header limit). */
function post(path: string, params: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
}

const range = { start: (T * NS).toString(), end: ((T + 60n) * NS).toString(), step: '60' };
const nests = (levels: number, open: string, inner: string, close: string) => `${open.repeat(levels)}${inner}${close.repeat(levels)}`;
const TOO_DEEP = `expression nests too deeply (more than ${MAX_QUERY_DEPTH} levels)`;

async function expectLokiError(res: Response, status: number, message: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(await res.text()).toBe(`${message}\n`);
}

describe("bad queries get a 400 in Loki's shape", () => {
  it.each([
    [
      'query_range',
      'a query nested 5,000 levels',
      nests(5000, 'sum(', 'count_over_time({app="deep"}[1m])', ')'),
      `parse error at line 1, col ${4 * MAX_QUERY_DEPTH + 1}: ${TOO_DEEP}`,
    ],
    ['query', 'a chain of 5,000 operators', `vector(1)${' + vector(1)'.repeat(5000)}`, `parse error : ${TOO_DEEP}`],
    ['format_query', 'a chain of 5,000 label filters', `{app="deep"} | x="1"${' or x="2"'.repeat(5000)}`, `parse error : ${TOO_DEEP}`],
    ['query_range', 'a query of 128 KiB', `{app="${'a'.repeat(131072)}"}`, 'parse error : input size too long (131080 > 131072)'],
    [
      'query_range',
      'a template nested 5,000 levels',
      `{app="deep"} | line_format "{{ ${nests(5000, '(', '.x', ')')} }}"`,
      'template: line:1: max expression depth exceeded',
    ],
    ['query_range', 'an ip() prefix past 32 bits', '{app="deep"} |= ip("10.0.3.0/224")', 'parse error : ip: invalid pattern "10.0.3.0/224"'],
    [
      'query_range',
      'a regex nested 10,000 levels',
      `{app="deep"} |~ "${nests(10_000, '(', 'a', ')')}"`,
      `parse error : error parsing regexp: expression nests too deeply: \`${nests(10_000, '(', 'a', ')')}\``,
    ],
    ['query_range', 'a json expression with a stray ]', '{app="deep"} | json x="0]"', 'parse error : cannot parse expression [0]]: syntax error'],
  ])('%s: %s', async (api, _what, query, message) => {
    await expectLokiError(await post(`/loki/api/v1/${api}`, { query, ...range }), 400, message);
  });
});

describe("bad parameters get a 400 in Loki's shape", () => {
  it.each([
    ['query_range', { query: 'count_over_time({app="deep"}[1m])', ...range, step: '1e400' }, 'invalid step: cannot parse "1e400" to a valid duration'],
    ['query_range', { query: '{app="deep"}', end: '1.7976931348623157e308' }, 'invalid end: cannot parse "1.7976931348623157e308" to a valid timestamp'],
    ['labels', { start: '-1.5e300' }, 'invalid start: cannot parse "-1.5e300" to a valid timestamp'],
  ])('%s %j', async (api, params, message) => {
    await expectLokiError(await post(`/loki/api/v1/${api}`, params), 400, message);
  });
});

describe('the deepest queries allowed are answered', () => {
  it('a range aggregation under aggregations nested to the limit', async () => {
    // The selector and the range aggregation are the two innermost levels.
    const query = nests(MAX_QUERY_DEPTH - 2, 'sum(', 'count_over_time({app="deep"}[1m])', ')');
    const res = await post('/loki/api/v1/query_range', { query, ...range });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { result: Array<{ values: Array<[number, string]> }> } };
    expect(body.data.result.map((r) => r.values)).toEqual([
      [
        [Number(T), '1'],
        [Number(T) + 60, '1'],
      ],
    ]);
  });

  it('an instant query and format_query over a chain of operators to the limit', async () => {
    const chain = `vector(1)${' + vector(1)'.repeat(MAX_QUERY_DEPTH - 1)}`;
    const res = await post('/loki/api/v1/query', { query: chain, time: range.end });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]!.value[1]).toBe(String(MAX_QUERY_DEPTH));
    const formatted = await post('/loki/api/v1/format_query', { query: chain });
    expect(formatted.status).toBe(200);
    expect(((await formatted.json()) as { data: string }).data.match(/vector\(1\.000000\)/g)).toHaveLength(MAX_QUERY_DEPTH);
  });

  it('a log query with a chain of label filters to the limit', async () => {
    const query = `{app="deep"} | logfmt | x="0"${' or x="2"'.repeat(MAX_QUERY_DEPTH - 2)}`;
    const res = await post('/loki/api/v1/query_range', { query, start: range.start, end: range.end });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { result: Array<{ values: string[][] }> } };
    expect(body.data.result.flatMap((r) => r.values.map((v) => v[1]))).toEqual(['x=2']);
  });

  it('| json over a line nested 40,000 levels (240 KB) marks the line instead of failing the query', async () => {
    const res = await post('/loki/api/v1/query_range', { query: '{app="deep-json"} | json', start: range.start, end: range.end });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string> }> } };
    expect(body.data.result.map((r) => r.stream)).toEqual([{ app: 'deep-json', __error__: 'JSONParserErr', __error_details__: 'exceeded max depth' }]);
  });
});

describe("bad pushes get a 4xx in Loki's shape", () => {
  const push = (body: Buffer | string, type: string, encoding?: string) =>
    fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': type, ...(encoding ? { 'content-encoding': encoding } : {}) }, body });

  it('a protobuf Timestamp 30 million years from now', async () => {
    const proto = encodePushRequestProto({
      streams: [{ labels: '{app="future"}', entries: [{ timestamp: 10n ** 15n * NS, line: 'x', structuredMetadata: [] }] }],
    });
    await expectLokiError(await push(snappyCompress(proto), 'application/x-protobuf'), 400, 'timestamp: seconds:1000000000000000 after 10000-01-01');
  });

  it('JSON nested 100,000 levels, as the body and as a line', async () => {
    await expectLokiError(await push(nests(100_000, '[', '', ']'), 'application/json'), 400, 'invalid JSON push body: expected an object with "streams"');
    const line = `{"streams":[{"stream":{"app":"x"},"values":[["1",${nests(100_000, '[', '', ']')}]]}]}`;
    await expectLokiError(await push(line, 'application/json'), 400, 'streams[0].values[0]: the log line must be a string');
  });

  it('a gzip body that inflates past max_recv_msg_size', async () => {
    const bomb = gzipSync(
      Buffer.from(
        encodePushRequestJson({ streams: [{ labels: '{app="x"}', entries: [{ timestamp: T * NS, line: ' '.repeat(4 * MAX_RECV), structuredMetadata: [] }] }] }),
      ),
    );
    expect(bomb.length).toBeLessThan(MAX_RECV / 64);
    await expectLokiError(await push(bomb, 'application/json', 'gzip'), 413, `request body too large: ${MAX_RECV + 1} bytes, limit: ${MAX_RECV} bytes`);
  });

  it('snappy that claims more than max_recv_msg_size', async () => {
    const claim = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08, 0x00]); // a preamble of 2 GiB
    await expectLokiError(await push(claim, 'application/x-protobuf'), 413, `request body too large: ${2 ** 31} bytes, limit: ${MAX_RECV} bytes`);
  });
});

describe('after all that', () => {
  it('the server is ready and answers a query', async () => {
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const res = await post('/loki/api/v1/query_range', { query: '{app="deep"}', start: range.start, end: range.end });
    expect(res.status).toBe(200);
  });
});
