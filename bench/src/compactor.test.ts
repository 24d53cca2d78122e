import { describe, expect, it } from 'vitest';
import { runTool } from './testing.js';

/* The compactor tool run tiny, as a user runs it (the built CLI): what it reports, not its figures. */

describe('bench compactor', () => {
  it('queries a day of 96 index files and the compacted one alike, and deletes every expired chunk', async () => {
    const { status, stdout, stderr } = await runTool('compactor', [
      '--streams',
      '2',
      '--interval',
      '900',
      '--runs',
      '2',
      '--retention-chunks',
      '100',
      '--json',
    ]);
    expect(status, stderr).toBe(0);
    const out = JSON.parse(stdout) as Record<string, number> & { queries: Array<Record<string, string | number>> };
    // 2 streams, one line each per 15 minutes
    expect(out.chunks).toBe(192);
    expect(out.queries.map((q) => [q.query, q.state, q['index files'], q.runs])).toEqual([
      ['needle, log query', '96 index files', 96, 2],
      ['count by app, 5m steps', '96 index files', 96, 2],
      ['needle in one stream', '96 index files', 96, 2],
      ['needle, log query', 'compacted', 1, 2],
      ['count by app, 5m steps', 'compacted', 1, 2],
      ['needle in one stream', 'compacted', 1, 2],
    ]);
    for (const q of out.queries) {
      // the same work before and after: every line and chunk of the day (of one stream: half of them)
      const lines = q.query === 'needle in one stream' ? 96 : 192;
      expect(q['lines processed'], `${q.query}, ${q.state}`).toBe(lines);
      expect(q['chunks from store'], `${q.query}, ${q.state}`).toBe(lines);
      for (const k of ['first ms', 'median ms', 'p90 ms', 'index KB read by the first']) expect(q[k]).toBeGreaterThan(0);
    }
    expect(out.queries[3]!['index KB read by the first']).toBeLessThan(out.queries[0]!['index KB read by the first'] as number);
    expect(out['compaction: index files before']).toBe(96);
    expect(out['compaction: s per index MB']).toBeGreaterThan(0);
    // 100 asked: two streams' 96 cuts
    expect(out['retention: chunks']).toBe(192);
    expect(out['retention: marked by the retention run']).toBe(192);
    expect(out['retention: sweep s per 10,000 chunks']).toBeGreaterThan(0);
  });

  it('explains a bad flag value', async () => {
    const { status, stderr } = await runTool('compactor', ['--streams', 'many']);
    expect(status).toBe(1);
    expect(stderr).toContain('bench: --streams must be a whole number of at least 1, not "many"');
  });
});
