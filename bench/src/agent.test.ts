import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchServer, startLokiLite } from './server.js';
import { fakeEndpoint, runTool } from './testing.js';

/* The agent tool as a user runs it (the built CLI and agent), against a loki-lite started here: flags and output, not speed. */

const run = (args: string[]) => runTool('agent', args);

describe('bench agent', () => {
  let loki: BenchServer;
  beforeAll(async () => {
    loki = await startLokiLite();
  });
  afterAll(() => loki.stop());

  it('ships --lines CRI lines over --files files through the agent and reports the run in --json', async () => {
    const { status, stdout, stderr } = await run(['--url', loki.url, '--lines', '3000', '--files', '3', '--agent-args', '--max-semi-space-size=2', '--json']);
    expect(status, stderr).toBe(0);
    const out = JSON.parse(stdout) as Record<string, number | string>;
    expect(out).toMatchObject({ endpoint: loki.url, lines: 3000, files: 3 });
    for (const k of ['seconds', 'lines/s', 'agent CPU s per 100 MB', 'agent peak RSS MB']) expect(typeof out[k], k).toBe('number');
    const q = new URLSearchParams({ query: 'sum by (pod) (count_over_time({job="bench"}[3h]))', time: String(Date.now() / 1000) });
    const body = (await (await fetch(`${loki.url}/loki/api/v1/query?${q}`)).json()) as {
      data: { result: Array<{ metric: { pod: string }; value: [number, string] }> };
    };
    expect(body.data.result.map((r) => [r.metric.pod, r.value[1]]).sort()).toEqual([
      ['worker-0', '1000'],
      ['worker-1', '1000'],
      ['worker-2', '1000'],
    ]);
  });

  it('stops with the reason when the endpoint cannot be reached or drops what the agent sends', async () => {
    const closed = await fakeEndpoint(204, '');
    await closed.close();
    const unreachable = await run(['--url', closed.url, '--lines', '10']);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(new RegExp(`^bench: cannot reach ${closed.url}: .*ECONNREFUSED`, 'm'));
    const refusing = await fakeEndpoint(400, 'entry too far behind');
    try {
      const dropped = await run(['--url', refusing.url, '--lines', '10']);
      expect(dropped.status).toBe(1);
      expect(dropped.stderr).toMatch(/^bench: the server dropped 10 entries \(.*reason="invalid".*\): .*entry too far behind/m);
    } finally {
      await refusing.close();
    }
  });
});
