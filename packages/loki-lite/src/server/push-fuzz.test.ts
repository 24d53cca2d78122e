import { gzipSync } from 'node:zlib';
import { encodePushRequestJson, encodePushRequestProto, snappyCompress } from '@loki-lite/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * Bad input gets a clear 4xx and never takes the server down: random and mutated push bodies in every
 * format and encoding, then a check that the server still takes and serves data.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.destroy());

let seed = 20261125;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const now = BigInt(Date.now()) * 1_000_000n;
const valid = {
  streams: [
    { labels: '{app="fuzz", pod="p-1"}', entries: [{ timestamp: now, line: 'a line', structuredMetadata: [{ name: 'k', value: 'v' }] }] },
    { labels: '{app="fuzz", pod="p-2"}', entries: [{ timestamp: now + 1n, line: 'ünïcode ✓', structuredMetadata: [] }] },
  ],
};

function mutate(bytes: Uint8Array): Buffer {
  const out = Buffer.from(bytes);
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = Math.floor(rand() * out.length);
    const kind = rand();
    if (kind < 0.6) out[at] = Math.floor(rand() * 256);
    else if (kind < 0.8) return out.subarray(0, at);
    else out[at] = 0xff;
  }
  return out;
}

describe('push fuzzing', () => {
  it('answers every malformed body with 204 or a 4xx, never a 5xx or a dropped connection', async () => {
    const proto = encodePushRequestProto(valid);
    const json = Buffer.from(encodePushRequestJson(valid));
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const pick = i % 6;
      let body: Buffer;
      let type = 'application/x-protobuf';
      let encoding: string | undefined;
      if (pick === 0)
        body = snappyCompress(mutate(proto)); // valid snappy around a broken message
      else if (pick === 1)
        body = mutate(snappyCompress(proto)); // broken snappy
      else if (pick === 2) {
        body = mutate(json);
        type = 'application/json';
      } else if (pick === 3) {
        body = mutate(gzipSync(json));
        type = 'application/json';
        encoding = 'gzip';
      } else if (pick === 4) body = Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
      else {
        body = Buffer.from(
          JSON.stringify({ streams: [{ stream: { app: rand() < 0.5 ? 'x' : 1 }, values: [[String(rand() * 1e20), rand() < 0.5 ? 'l' : null]] }] }),
        );
        type = 'application/json';
      }
      const headers: Record<string, string> = { 'content-type': type };
      if (encoding) headers['content-encoding'] = encoding;
      const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status === 204 || (res.status >= 400 && res.status < 500), `body ${i} (kind ${pick}) answered ${res.status}`).toBe(true);
    }
    // the fuzz must have reached both outcomes to mean anything
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
  });

  it('is still healthy and serving afterwards', async () => {
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const res = await server.pushProto({
      streams: [{ labels: '{app="after-fuzz"}', entries: [{ timestamp: now + 5n, line: 'still here', structuredMetadata: [] }] }],
    });
    expect(res.status).toBe(204);
    const q = new URLSearchParams({ query: '{app="after-fuzz"}', start: (now - 1n).toString(), end: (now + 10n ** 9n).toString() });
    const body = (await (await fetch(`${server.url}/loki/api/v1/query_range?${q}`)).json()) as { data: { result: Array<{ values: string[][] }> } };
    expect(body.data.result[0]!.values).toEqual([[(now + 5n).toString(), 'still here']]);
  });
});
