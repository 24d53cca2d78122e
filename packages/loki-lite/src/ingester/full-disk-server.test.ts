import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodePushRequestJson, encodePushRequestProto, freePort, snappyCompress } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { type ChildServer, startChild, writeChildConfig } from '../testing/child-server.js';
import { privateTmpfs } from '../testing/private-tmpfs.js';

/*
 * The full-disk promise with real parts: the built server keeps its WAL on a 4 MB tmpfs that a filler file
 * has nearly filled. Writers push until the disk refuses; the server is killed with SIGKILL and started
 * again on the same (still full) disk; then the filler goes. Every push answered 204 must be readable before
 * and after the kill, no line of a push that failed may ever be, and pushes must succeed again.
 */

const T0 = BigInt(Date.now()) * 1_000_000n;

async function queryLines(url: string): Promise<Set<string>> {
  const query = new URLSearchParams({ query: '{app="full"}', start: String(T0 - 1n), end: String(T0 + 10n ** 12n), limit: '100000', direction: 'forward' });
  const res = await fetch(`${url}/loki/api/v1/query_range?${query}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Array<{ values: string[][] }> } };
  return new Set(body.data.result.flatMap((s) => s.values.map((v) => v[1]!)));
}

describe('a server whose WAL disk fills up', () => {
  it('acknowledges only what is on disk, keeps it across SIGKILL, and takes pushes again once space is back', async () => {
    const tmpfs = await privateTmpfs(4 << 20);
    const dir = mkdtempSync(path.join(tmpdir(), 'full-disk-server-'));
    let child: ChildServer | undefined;
    try {
      const port = await freePort();
      const configFile = writeChildConfig(
        dir,
        port,
        `
ingester:
  wal: {dir: ${tmpfs.dir}/wal, min_free_disk_space: 0, checkpoint_duration: 500ms}
limits_config: {reject_old_samples: false, max_entries_limit_per_query: 100000, ingestion_rate_mb: 1024, ingestion_burst_size_mb: 1024, per_stream_rate_limit: 1GB, per_stream_rate_limit_burst: 1GB}
`,
      );
      const filler = path.join(tmpfs.hostDir, 'filler');
      writeFileSync(filler, Buffer.alloc((4 << 20) - (160 << 10)));
      child = await startChild(configFile, port, tmpfs.runWith);

      const acked: string[] = [];
      const failed: string[] = [];
      let seq = 0;
      const writer = async (w: number) => {
        while (failed.length < 400) {
          const n = seq++;
          const lines = Array.from({ length: 20 }, (_, i) => `writer=${w} push=${n} line=${i} ${'y'.repeat(n % 50)}`);
          const stream = {
            labels: `{app="full", writer="${w}"}`,
            entries: lines.map((line, i) => ({ timestamp: T0 + BigInt(n * 100 + i), line, structuredMetadata: [] })),
          };
          // Half the writers send JSON (WAL entries records), half protobuf (WAL push-body records).
          const [type, body] =
            w % 2 === 0
              ? ['application/json', encodePushRequestJson({ streams: [stream] })]
              : ['application/x-protobuf', snappyCompress(encodePushRequestProto({ streams: [stream] }))];
          const res = await fetch(`${child!.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': type }, body });
          const text = await res.text();
          if (res.status === 204) acked.push(...lines);
          else {
            expect(res.status, text).toBe(500);
            expect(text).toMatch(/writing to the WAL failed, so the push was not stored: ENOSPC/);
            failed.push(...lines);
          }
        }
      };
      await Promise.all([0, 1, 2, 3].map(writer));
      expect(acked.length).toBeGreaterThan(0);

      const before = await queryLines(child.url);
      expect(acked.filter((l) => !before.has(l))).toEqual([]);
      expect(failed.filter((l) => before.has(l))).toEqual([]);

      child.process.kill('SIGKILL');
      await child.exited();
      child = await startChild(configFile, port, tmpfs.runWith);
      const after = await queryLines(child.url);
      expect(acked.filter((l) => !after.has(l))).toEqual([]);
      expect(failed.filter((l) => after.has(l))).toEqual([]);

      unlinkSync(filler);
      const res = await fetch(`${child.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: encodePushRequestJson({
          streams: [{ labels: '{app="full"}', entries: [{ timestamp: T0 + 10n ** 11n, line: 'space is back', structuredMetadata: [] }] }],
        }),
      });
      expect(res.status).toBe(204);
      expect((await queryLines(child.url)).has('space is back')).toBe(true);
    } finally {
      child?.process.kill('SIGKILL');
      await child?.exited();
      tmpfs.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
