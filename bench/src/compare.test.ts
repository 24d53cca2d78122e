import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@loki-lite/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figures } from './compare.js';
import { type BenchServer, LOKI_LITE_BIN, startLokiLite, writeLokiLiteConfig } from './server.js';
import { runTool } from './testing.js';

/* The compare tool as a user runs it, on two loki-lites started here: alternation and output, not speed. */

const linesReceived = async (url: string) =>
  Number(/^loki_distributor_lines_received_total\{[^}]*\} (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);

describe('bench compare', () => {
  let a: BenchServer;
  let b: BenchServer;
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-compare-test-'));
  beforeAll(async () => {
    [a, b] = await Promise.all([startLokiLite(), startLokiLite()]);
  });
  afterAll(() => {
    a?.stop();
    b?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the tool on A and B in turn and gives medians and B/A per figure', async () => {
    const { status, stdout, stderr } = await runTool('compare', [
      '--tool',
      'ingest',
      '--a',
      a.url,
      '--b',
      b.url,
      '--rounds',
      '2',
      '--json',
      '--',
      '--mb',
      '0.5',
      '--streams',
      '5',
    ]);
    expect(status, stderr).toBe(0);
    const out = JSON.parse(stdout) as { order: string; figures: Array<Record<string, string | number>> };
    expect(out.order).toBe('a b a b');
    const rate = out.figures.find((f) => f.figure === 'lines/s')!;
    expect(typeof rate['a median']).toBe('number');
    expect(rate['b / a']).toBeCloseTo((rate['b median'] as number) / (rate['a median'] as number), 2);
    expect(String(rate['a runs']).split(' ')).toHaveLength(2);
    // Both servers took both rounds' pushes.
    expect(await linesReceived(a.url)).toBeGreaterThan(4000);
    expect(await linesReceived(b.url)).toBeGreaterThan(4000);
  });

  it('starts a server command for each run and measures it, and prints a table', async () => {
    const sides = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const port = await freePort();
        const config = writeLokiLiteConfig(mkdtempSync(path.join(dir, `${name}-`)), port);
        return { url: `http://127.0.0.1:${port}`, cmd: `${process.execPath} ${LOKI_LITE_BIN} -config.file=${config}` };
      }),
    );
    const { status, stdout, stderr } = await runTool('compare', [
      '--tool',
      'ingest',
      '--a',
      sides[0]!.url,
      '--a-cmd',
      sides[0]!.cmd,
      '--b',
      sides[1]!.url,
      '--b-cmd',
      sides[1]!.cmd,
      '--rounds',
      '1',
      '--',
      '--mb',
      '0.3',
      '--streams',
      '3',
    ]);
    expect(status, stderr).toBe(0);
    expect(stdout).toMatch(/^ingest: a = .*, b = .*, runs in the order a b$/m);
    expect(stdout).toMatch(/^figure +a median +b median +b \/ a$/m);
    // With a process to watch on both sides, the server's CPU and memory are figures too.
    expect(stdout).toMatch(/^server CPU s per 100 MB +[\d.]+ +[\d.]+ +[\d.]+$/m);
    expect(stdout).toMatch(/^server peak RSS MB +\d+ +\d+ +[\d.]+$/m);
    // Each server was stopped after its run.
    for (const side of sides) await expect(fetch(`${side.url}/ready`)).rejects.toThrow();
  });

  it("names what is wrong with its own flags, and passes on the tool's own error", async () => {
    const noTool = await runTool('compare', ['--a', a.url, '--b', b.url]);
    expect(noTool.status).toBe(1);
    expect(noTool.stderr).toContain('bench: --tool must be one of ingest, query, agent, not ""');
    const badCheckout = await runTool('compare', ['--tool', 'query', '--a', dir, '--b', b.url]);
    expect(badCheckout.status).toBe(1);
    expect(badCheckout.stderr).toContain(`bench: --a ${dir}: no bench/dist/query.js there`);
    const failing = await runTool('compare', ['--tool', 'query', '--a', a.url, '--b', b.url, '--rounds', '1', '--', '--query', '{app=', '--runs', '1']);
    expect(failing.status).toBe(1);
    expect(failing.stderr).toMatch(/^bench: query\.js failed \(exit 1\): query \(\{app=\) answered HTTP 400: parse error/m);
  });

  it('names nested figures by their query and phase', () => {
    expect([...figures({ lines: 5, results: [{ query: 'regex', 'GB/s': 0.5 }, { 'GB/s': 0.3 }], endpoint: 'x' })]).toEqual([
      ['lines', 5],
      ['regex: GB/s', 0.5],
      ['results[1]: GB/s', 0.3],
    ]);
    const phased = {
      results: [
        { query: 'needle', phase: 'memory', 'lines matched': 2 },
        { query: 'needle', phase: 'flushed', 'lines matched': 2, 'matched %': 'n/a' },
      ],
    };
    expect([...figures(phased)]).toEqual([
      ['needle (memory): lines matched', 2],
      ['needle (flushed): lines matched', 2],
    ]);
  });
});
