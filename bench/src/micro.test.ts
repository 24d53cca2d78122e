import { describe, expect, it } from 'vitest';
import { runTool } from './testing.js';

/* The micro benchmarks' flags and output (not their figures). */

describe('bench micro', () => {
  it('runs the benchmarks --only picks and reports ops/s and MB/s for each', async () => {
    const { status, stdout, stderr } = await runTool('micro', ['--only', 'decode', '--time', '20', '--json']);
    expect(status, stderr).toBe(0);
    const { results } = JSON.parse(stdout) as { results: Array<{ benchmark: string; 'ops/s': number; 'MB/s': number }> };
    expect(results.map((r) => r.benchmark)).toEqual([
      'push decode: protobuf + snappy, 1,000 lines',
      'push decode: JSON, 1,000 lines',
      'agent CRI decode: 1,000 lines',
    ]);
    for (const r of results) {
      expect(r['ops/s']).toBeGreaterThan(0);
      expect(r['MB/s']).toBeGreaterThan(0);
    }
  });

  it("runs a pick that leaves the agent's CRI decoder out", async () => {
    const { status, stdout, stderr } = await runTool('micro', ['--only', 'push decode', '--time', '20', '--json']);
    expect(status, stderr).toBe(0);
    expect((JSON.parse(stdout) as { results: unknown[] }).results).toHaveLength(2);
  });

  it('lists the names when --only matches none', async () => {
    const { status, stderr } = await runTool('micro', ['--only', 'xml']);
    expect(status).toBe(1);
    expect(stderr).toMatch(/^bench: no benchmark name contains "xml"; names: push decode: protobuf \+ snappy, 1,000 lines; .*json parse/m);
  });
});
