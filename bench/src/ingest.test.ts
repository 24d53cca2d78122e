import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEAVY_QUERY } from './query-load.js';
import { type BenchServer, startLokiLite } from './server.js';
import { fakeEndpoint, runTool } from './testing.js';

/* The ingest tool as a user runs it (the built CLI), against a loki-lite started here: flags and output, not speed. */

const run = (args: string[]) => runTool('ingest', args);

describe('bench ingest', () => {
  let loki: BenchServer;
  beforeAll(async () => {
    loki = await startLokiLite();
  });
  afterAll(() => loki.stop());

  const linesIn = async (selector: string) => {
    const q = new URLSearchParams({ query: selector, limit: '5000', start: String((Date.now() - 7_200_000) * 1e6), end: String(Date.now() * 1e6) });
    const body = (await (await fetch(`${loki.url}/loki/api/v1/query_range?${q}`)).json()) as { data: { result: Array<{ values: Array<[string, string]> }> } };
    return body.data.result.flatMap((s) => s.values.map(([, line]) => line));
  };

  it('pushes protobuf, reports rates, latency and the server process in --json, and the lines arrive', async () => {
    const { status, stdout, stderr } = await run(['--url', loki.url, '--pid', String(loki.child.pid), '--mb', '1', '--streams', '10', '--json']);
    expect(status, stderr).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ endpoint: loki.url, format: 'protobuf', streams: 10, errors: {} });
    expect(result.lines as number).toBeGreaterThan(5000);
    for (const k of ['lines/s', 'MB/s', 'push latency p50 ms', 'push latency p99 ms', 'server CPU s per 100 MB', 'server peak RSS MB'])
      expect(typeof result[k], k).toBe('number');
    expect((await linesIn('{app="bench", pod="worker-3"}')).length).toBeGreaterThan(500);
  });

  it('sends JSON pushes of fixed-size lines from one template, --total of them, and prints name: value lines', async () => {
    const own = await startLokiLite(); // its own server: the lines are counted
    try {
      const { status, stdout, stderr } = await run([
        '--url',
        own.url,
        '--format',
        'json',
        '--template',
        'access',
        '--line-bytes',
        '200',
        '--total',
        '500',
        '--lines-per-push',
        '100',
        '--streams',
        '1',
      ]);
      expect(status, stderr).toBe(0);
      expect(stdout).toMatch(/^format: +json$/m);
      expect(stdout).toMatch(/^lines: +400$/m); // the first push is the untimed probe
      const q = new URLSearchParams({ query: '{app="bench"}', limit: '5000', start: String((Date.now() - 7_200_000) * 1e6) });
      const sent = (await (await fetch(`${own.url}/loki/api/v1/query_range?${q}`)).json()) as { data: { result: Array<{ values: Array<[string, string]> }> } };
      const lines = sent.data.result.flatMap((s) => s.values.map(([, l]) => l));
      expect(lines).toHaveLength(500);
      for (const l of lines) {
        expect(l).toHaveLength(200);
        expect(l).toMatch(/^10\.0\.\d+\.\d+ - - \[.+\] "POST \/loki\/api\/v1\/push HTTP\/1.1"/);
      }
    } finally {
      own.stop();
    }
  });

  it('--query-load runs query clients while the timed pushes run, after a --preload-mb, and reports their answers', async () => {
    const { status, stdout, stderr } = await run(['--mb', '1', '--preload-mb', '1', '--streams', '10', '--query-load', '2', '--json']);
    expect(status, stderr).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ errors: {}, 'query clients': 2, 'load query': HEAVY_QUERY, 'query errors': {} });
    expect(result['queries completed'] as number).toBeGreaterThanOrEqual(2); // each client's query running at the end is waited for
    for (const k of ['query latency p50 ms', 'query latency p99 ms', 'server peak RSS MB', 'server peak RSS MB while preloading'])
      expect(result[k], k).toBeGreaterThan(0);
  });

  it('--load-query: answers that are not 200 are counted by status, with the first text', async () => {
    const { status, stdout, stderr } = await run([
      '--url',
      loki.url,
      '--mb',
      '0.5',
      '--streams',
      '10',
      '--query-load',
      '1',
      '--load-query',
      '{app="bench"',
      '--json',
    ]);
    expect(status, stderr).toBe(0);
    const result = JSON.parse(stdout) as { 'queries completed': number; 'query errors': Record<string, { count: number; first: string }> };
    expect(result['queries completed']).toBe(0);
    expect(result['query errors']['400']!.count).toBeGreaterThan(0);
    expect(result['query errors']['400']!.first).toMatch(/^HTTP 400: parse error/);
  });

  it('fails in one line for an unreachable endpoint, and for one that refuses the load, with its status and text', async () => {
    const closed = await fakeEndpoint(204, '');
    await closed.close(); // a port nothing listens on
    const unreachable = await run(['--url', closed.url, '--mb', '0.1']);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(new RegExp(`^bench: cannot reach ${closed.url}/loki/api/v1/push: .*ECONNREFUSED`, 'm'));
    const limited = await fakeEndpoint(429, 'Ingestion rate limit exceeded for user fake');
    try {
      const refused = await run(['--url', limited.url, '--mb', '0.1']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('bench: the server refuses the load: HTTP 429: Ingestion rate limit exceeded for user fake');
    } finally {
      await limited.close();
    }
  });

  it('stops at --duration, and explains a bad flag value', async () => {
    const slow = await fakeEndpoint(204, '', 200);
    try {
      const { status, stdout, stderr } = await run([
        '--url',
        slow.url,
        '--total',
        '10000',
        '--lines-per-push',
        '100',
        '--duration',
        '0.5',
        '--concurrency',
        '1',
        '--json',
      ]);
      expect(status, stderr).toBe(0);
      const pushes = (JSON.parse(stdout) as { pushes: number }).pushes;
      expect(pushes).toBeGreaterThan(0);
      expect(pushes).toBeLessThan(20); // of 99 timed bodies: each answer takes 200 ms
      expect(slow.requests()).toBe(pushes + 1);
    } finally {
      await slow.close();
    }
    const bad = await run(['--template', 'xml']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('bench: --template must be one of mixed, logfmt, nccl, json, access, not "xml"');
  });
});
