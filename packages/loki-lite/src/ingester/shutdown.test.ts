import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@loki-lite/shared';
import { startChild, writeChildConfig } from '../testing/child-server.js';

describe('SIGTERM', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shutdown-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes everything to the store and exits 0; the data is then readable without the WAL', async () => {
    const port = await freePort();
    const configFile = writeChildConfig(dir, port, 'limits_config: {reject_old_samples: false}');
    const child = await startChild(configFile, port);
    const now = BigInt(Date.now()) * 1_000_000n;
    const lines = Array.from({ length: 300 }, (_, i) => `before shutdown ${i}`);
    const res = await fetch(`${child.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { app: 'term' }, values: lines.map((l, i) => [(now + BigInt(i)).toString(), l]) }] }),
    });
    expect(res.status).toBe(204);
    child.process.kill('SIGTERM');
    expect(await child.exited()).toBe(0);
    expect(readdirSync(path.join(dir, 'chunks', 'fake')).length).toBe(1);
    expect(readdirSync(path.join(dir, 'index')).length).toBe(1);

    // Without the WAL, only the store can answer.
    rmSync(path.join(dir, 'wal'), { recursive: true, force: true });
    const again = await startChild(configFile, port);
    try {
      const q = new URLSearchParams({ query: '{app="term"}', start: now.toString(), end: (now + 10n ** 9n).toString(), limit: '1000', direction: 'forward' });
      const body = (await (await fetch(`${again.url}/loki/api/v1/query_range?${q}`)).json()) as { data: { result: Array<{ values: string[][] }> } };
      expect(body.data.result[0]!.values.map((v) => v[1])).toEqual(lines);
    } finally {
      again.process.kill('SIGKILL');
    }
  });
});
