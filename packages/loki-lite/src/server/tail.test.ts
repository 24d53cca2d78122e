import { nowNanos } from '@loki-lite/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.destroy());

type Frame = { streams: Array<{ stream: Record<string, string>; values: string[][] }> };

/** Opens a tail and collects its messages. */
function openTail(params: Record<string, string | bigint>) {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/loki/api/v1/tail?${qs(params)}`);
  const frames: Frame[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const w of waiters.splice(0)) w();
  });
  const lines = () => frames.flatMap((f) => f.streams.flatMap((s) => s.values.map((v) => v[1]!)));
  /** Resolves once `n` lines have arrived in all. */
  const untilLines = (n: number) => new Promise<string[]>((resolve) => {
    const check = () => (lines().length >= n ? resolve(lines()) : waiters.push(check));
    check();
  });
  return { ws, frames, untilLines, opened: new Promise((r) => ws.once('open', r)) };
}

describe('/loki/api/v1/tail', () => {
  it('sends the lines since start, then each new line once, in Loki\'s message shape', async () => {
    const now = nowNanos();
    await server.pushJson({ streams: [{ stream: { app: 'tail' }, values: [[(now - 2_000_000_000n).toString(), 'old 1'], [(now - 1_000_000_000n).toString(), 'old 2']] }] });
    const tail = openTail({ query: '{app="tail"} |= "o"', start: now - 10_000_000_000n });
    await tail.opened;
    expect(await tail.untilLines(2)).toEqual(['old 1', 'old 2']);
    expect(tail.frames[0]).toEqual({ streams: [{ stream: { app: 'tail' }, values: [[(now - 2_000_000_000n).toString(), 'old 1'], [(now - 1_000_000_000n).toString(), 'old 2']] }] });
    const later = nowNanos();
    await server.pushJson({ streams: [{ stream: { app: 'tail' }, values: [[later.toString(), 'new one'], [later.toString(), 'skipped by the filter: x']] }] });
    expect(await tail.untilLines(3)).toEqual(['old 1', 'old 2', 'new one']);
    tail.ws.close();
  });

  it.each([
    [{ query: 'count_over_time({app="tail"}[1m])' }, 'tail only supports log queries'],
    [{ query: '{app="tail"}', delay_for: '6' }, "delay_for can't be greater than 5"],
    [{ query: '{app=~".*"}' }, 'queries require at least one regexp or equality matcher'],
  ])('answers 400 before the upgrade for %j', async (params, message) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/loki/api/v1/tail?${qs(params)}`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('open', () => reject(new Error('the upgrade was accepted')));
      ws.on('error', () => {}); // the refused upgrade is reported here too
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain(message);
  });
});
