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

  it('loads into --url, runs a file of instant, range and log queries in memory and after a flush, with the lines each matched', async () => {
    const file = path.join(dir, 'queries.logql');
    writeFileSync(
      file,
      `# the bench's queries
sum(count_over_time({app="bench"} |= "NCCL" [24h]))
range: sum by (pod) (rate({app="bench"} | logfmt | level="info" [5m]))
{app="bench"} |= "NCCL INFO"
sum(count_over_time({app="bench"} |= "NCCL" [24h])) / sum(count_over_time({app="bench"} [24h]))
`,
    );
    const { status, stdout, stderr } = await run([
      '--url',
      loki.url,
      '--load',
      'yes',
      '--mb',
      '2',
      '--streams',
      '4',
      '--queries',
      file,
      '--runs',
      '2',
      '--since',
      '1h',
      '--step',
      '60',
      '--limit',
      '50',
      '--pid',
      String(loki.child.pid),
      '--json',
    ]);
    expect(status, stderr).toBe(0);
    const out = JSON.parse(stdout) as Record<string, number> & { results: Array<Record<string, string | number>> };
    expect(out['MB loaded']).toBe(2);
    expect(out.results.map((r) => [r.query, r.phase, r.type, r.runs])).toEqual([
      ['instant 1', 'memory', 'instant', 2],
      ['range 2', 'memory', 'range', 2],
      ['log 3', 'memory', 'log, limit 50', 2],
      ['instant 4', 'memory', 'instant', 2],
      ['instant 1', 'flushed', 'instant', 2],
      ['range 2', 'flushed', 'range', 2],
      ['log 3', 'flushed', 'log, limit 50', 2],
      ['instant 4', 'flushed', 'instant', 2],
    ]);
    // In memory, no chunk comes from the store; after the flush, every one does.
    expect(out['chunks in memory, memory phase']).toBeGreaterThan(0);
    expect(out['chunks in memory, flushed phase']).toBe(0);
    for (const r of out.results) {
      expect(r['chunks from store'], `${r.query} ${r.phase}`).toSatisfy((n: number) => (r.phase === 'memory' ? n === 0 : n > 0));
      for (const k of ['best seconds', 'median seconds', 'GB/s', 'GB processed']) expect(typeof r[k], k).toBe('number');
    }
    const [nccl, logfmt, log, ratio] = out.results;
    // Every loaded line was read; a quarter of them are NCCL lines, and a quarter logfmt trainer steps.
    expect(nccl!['GB processed']).toBeGreaterThan(0.0015);
    expect(nccl!['matched %']).toBeGreaterThan(24);
    expect(nccl!['matched %']).toBeLessThan(26);
    expect(nccl!['lines matched']).toBe(Math.round(((nccl!['matched %'] as number) / 100) * (nccl!['lines processed'] as number)));
    expect(logfmt!['matched %']).toBeGreaterThan(24);
    expect(logfmt!['matched %']).toBeLessThan(26);
    expect(log!['lines matched']).toBe(50);
    // Two range aggregations: no one count of matched lines.
    expect(ratio!['lines matched']).toBe('n/a');
    // The same lines match whether they are read from memory or from the store.
    const flushed = out.results.slice(4);
    out.results.slice(0, 4).forEach((r, i) => expect(flushed[i]!['lines matched']).toBe(r['lines matched']));
    expect(out['server peak RSS MB while loading']).toBeGreaterThan(0);
    expect(out['server peak RSS MB, flushed phase queries']).toBeGreaterThan(0);
  });

  it('runs the built-in sets, each matching about the share it claims, and a set that matches nothing shows 0', async () => {
    const fresh = await startLokiLite();
    try {
      // 5 MB: 42,000 lines, enough for one Traceback line (line 39,999).
      const { status, stdout, stderr } = await run([
        '--url',
        fresh.url,
        '--load',
        'yes',
        '--mb',
        '5',
        '--streams',
        '4',
        '--runs',
        '1',
        '--phase',
        'memory',
        '--json',
      ]);
      expect(status, stderr).toBe(0);
      const results = (JSON.parse(stdout) as { results: Array<Record<string, string | number>> }).results;
      expect(results.length).toBeGreaterThanOrEqual(10);
      expect(new Set(results.map((r) => r.phase))).toEqual(new Set(['memory']));
      const byName = new Map(results.map((r) => [r.query, r]));
      expect(byName.get('no match')!['lines matched']).toBe(0);
      expect(byName.get('no match')!['matched %']).toBe(0);
      expect(byName.get('needle')!['lines matched']).toBe(1);
      expect(byName.get('log needle, limit 100')!['lines matched']).toBe(1);
      expect(byName.get('log, limit 1000')!['lines matched']).toBe(1000);
      // Each set states the share of the generated lines it matches (a log query's entries stop at its limit).
      for (const r of results.filter((q) => !String(q.type).startsWith('log'))) {
        const share = Number.parseFloat(String(r.share));
        expect(r['matched %'] as number, String(r.query)).toBeCloseTo(share, share < 1 ? 2 : 0);
      }
    } finally {
      fresh.stop();
    }
  });

  it("stops with the server's status and text for a query it refuses, for an unreachable endpoint, and explains a bad --since or --phase", async () => {
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
    const badPhase = await run(['--url', loki.url, '--phase', 'disk']);
    expect(badPhase.status).toBe(1);
    expect(badPhase.stderr).toContain('bench: --phase takes memory, flushed or both (memory,flushed), not "disk"');
  });
});
