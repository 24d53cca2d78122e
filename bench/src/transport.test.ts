import { describe, expect, it } from 'vitest';
import { runTool } from './testing.js';

/* The transport tool run tiny, as a user runs it (the built CLI): what it reports, not its figures. */

describe('bench transport', () => {
  it('replicates every body to each peer over gRPC, HTTP/2 and HTTP/1.1, and reports each per round', async () => {
    const { status, stdout, stderr } = await runTool('transport', ['--mb', '0.5', '--rounds', '2', '--replicas', '2', '--json']);
    expect(status, stderr).toBe(0);
    const out = JSON.parse(stdout) as { replicas: number; pushes: number; transports: Array<Record<string, unknown>> };
    expect(out.replicas).toBe(2);
    expect(out.transports.map((t) => t.transport)).toEqual(['grpc', 'http2', 'http']);
    for (const t of out.transports) {
      for (const k of ['MB/s', 'client CPU-s per 100 MB', 'peers CPU-s per 100 MB', 'total CPU-s per 100 MB']) expect(t[k]).toHaveProperty('median');
    }
    expect(stderr).toMatch(/^round 2 http: /m);
    // each peer took the warm-up and two rounds of every body, over each transport
    const perPeer = [...stderr.matchAll(/transport peer: (\d+) pushes/g)].map((m) => Number(m[1]));
    expect(perPeer).toEqual([2, 2].map(() => 3 * (Math.min(out.pushes, 20) + 2 * out.pushes)));
  });

  it('runs the transports it is given', async () => {
    const { status, stdout, stderr } = await runTool('transport', ['--mb', '0.2', '--rounds', '1', '--transports', 'http', '--json']);
    expect(status, stderr).toBe(0);
    expect((JSON.parse(stdout) as { transports: Array<{ transport: string }> }).transports.map((t) => t.transport)).toEqual(['http']);
  });

  it('fails in one line for a bad flag', async () => {
    const { status, stderr } = await runTool('transport', ['--replicas', '0']);
    expect(status).toBe(1);
    expect(stderr).toContain('bench: --replicas must be a whole number above 0, not "0"');
  });
});
