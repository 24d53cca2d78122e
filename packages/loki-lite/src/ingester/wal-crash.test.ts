import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodePushRequestJson, encodePushRequestProto, snappyCompress } from '@loki-lite/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@loki-lite/shared';
import { startChild, writeChildConfig } from '../testing/child-server.js';

/*
 * The durability promise: once a push has been answered 204, it survives kill -9. A real loki-lite process
 * (the built bin) takes concurrent pushes while flushing chunks, cutting index files and checkpointing its
 * WAL on short timers; it is killed with SIGKILL mid-load, restarted on the same folder, and every
 * acknowledged line must be readable.
 */
describe('WAL durability', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wal-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every acknowledged push survives SIGKILL during load', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const configFile = writeChildConfig(
      dir,
      port,
      `
ingester:
  chunk_encoding: snappy
  chunk_block_size: 4KB
  chunk_target_size: 16KB
  flush_check_period: 100ms
  chunk_idle_period: 300ms
  index_cut_period: 250ms
  wal: {checkpoint_duration: 200ms}
limits_config: {reject_old_samples: false, max_entries_limit_per_query: 1000000, ingestion_rate_mb: 1024, ingestion_burst_size_mb: 1024, per_stream_rate_limit: 1GB, per_stream_rate_limit_burst: 1GB}
`,
    );

    let child = await startChild(configFile, port);

    const base = BigInt(Date.now()) * 1_000_000n;
    const acked: string[] = [];
    let seq = 0;
    let killed = false;
    const writer = async (w: number) => {
      while (!killed) {
        const n = seq++;
        const lines = Array.from({ length: 20 }, (_, i) => `writer=${w} request=${n} line=${i} ${'x'.repeat(n % 40)}`);
        const stream = {
          labels: `{app="crash", writer="${w % 3}"}`,
          entries: lines.map((line, i) => ({ timestamp: base + BigInt(n * 100 + i), line, structuredMetadata: [] })),
        };
        // Even writers send JSON (WAL entries records), odd ones protobuf (WAL push-body records).
        const [type, body] =
          w % 2 === 0
            ? ['application/json', encodePushRequestJson({ streams: [stream] })]
            : ['application/x-protobuf', snappyCompress(encodePushRequestProto({ streams: [stream] }))];
        try {
          const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': type }, body });
          if (res.status === 204) acked.push(...lines);
          else if (!killed) throw new Error(`push answered ${res.status}: ${await res.text()}`);
        } catch (e) {
          if (!killed) throw e;
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    // Kill once enough is acknowledged; a writer that fails before the kill fails the test at once.
    const enough = (async () => {
      while (acked.length < 40_000) await new Promise((r) => setTimeout(r, 20));
    })();
    await Promise.race([
      enough,
      Promise.all(writers).then(() => {
        throw new Error('all writers stopped before the kill');
      }),
    ]);
    child.process.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    await child.exited();

    child = await startChild(configFile, port);
    try {
      const query = new URLSearchParams({
        query: '{app="crash"}',
        start: (base - 1n).toString(),
        end: (base + 10n ** 12n).toString(),
        limit: '1000000',
        direction: 'forward',
      });
      const res = await fetch(`${url}/loki/api/v1/query_range?${query}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { result: Array<{ values: string[][] }> } };
      const found = new Set(body.data.result.flatMap((s) => s.values.map((v) => v[1]!)));
      const lost = acked.filter((l) => !found.has(l));
      expect(lost.length, `lost ${lost.length} of ${acked.length} acknowledged lines, e.g. ${lost[0]}`).toBe(0);
      // nothing appears twice although it may be both replayed and in a flushed chunk
      expect(body.data.result.reduce((n, s) => n + s.values.length, 0)).toBe(found.size);
    } finally {
      child.process.kill('SIGKILL');
    }
  }, 120_000);
});
