import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchServer, startLokiLite } from './server.js';
import { fakeEndpoint, runTool } from './testing.js';

/* The query tool as a user runs it (the built CLI), against a loki-lite started here: flags and output, not speed. */

const run = (args: string[]) => runTool('query', args);

describe('bench query', () => {
  let loki: BenchServer;
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-query-test-'));
  beforeAll(async () => {
    loki = await startLokiLite();
  });
  afterAll(() => {
    loki.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads into --url, runs a file of instant and range queries, and reports each with its rate in --json', async () => {
    const file = path.join(dir, 'queries.logql');
    writeFileSync(file, `# the bench's queries
sum(count_over_time({app="bench"} |= "NCCL" [24h]))
range: sum by (pod) (rate({app="bench"} | logfmt | level="info" [5m]))
`);
    const { status, stdout, stderr } = await run(['--url', loki.url, '--load', 'yes', '--mb', '2', '--streams', '4', '--queries', file, '--runs', '2', '--since', '1h', '--step', '60', '--pid', String(loki.child.pid), '--json']);
    expect(status, stderr).toBe(0);
    const out = JSON.parse(stdout) as { 'MB loaded': number; results: Array<Record<string, unknown>>; 'server peak RSS MB after queries': number };
    expect(out['MB loaded']).toBe(2);
    expect(out.results.map((r) => [r.query, r.type, r.runs])).toEqual([['instant 1', 'instant', 2], ['range 2', 'range', 2]]);
    for (const r of out.results) {
      expect(r['GB processed'] as number).toBeGreaterThan(0.0015); // every loaded line was read
      for (const k of ['best seconds', 'median seconds', 'GB/s']) expect(typeof r[k], k).toBe('number');
    }
    expect(out['server peak RSS MB after queries']).toBeGreaterThan(0);
  });

  it("stops with the server's status and text for a query it refuses, for an unreachable endpoint, and explains a bad --since", async () => {
    const bad = await run(['--url', loki.url, '--query', 'sum(count_over_time({app="bench"} |= [5m]))', '--runs', '1']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^bench: query \(.*\) answered HTTP 400: parse error at line 1, col \d+: syntax error: unexpected /m);
    const closed = await fakeEndpoint(200, '');
    await closed.close();
    const unreachable = await run(['--url', closed.url, '--runs', '1']);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(new RegExp(`^bench: cannot reach ${closed.url}/loki/api/v1/query: .*ECONNREFUSED`, 'm'));
    const badSince = await run(['--url', loki.url, '--since', 'yesterday']);
    expect(badSince.status).toBe(1);
    expect(badSince.stderr).toContain('bench: --since must be a duration like 15m or 24h, not "yesterday"');
  });
});
