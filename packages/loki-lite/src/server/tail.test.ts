import { nowNanos } from '@loki-lite/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';
import { eventually } from '../testing/eventually.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.destroy());

type Frame = { streams: Array<{ stream: Record<string, string>; values: string[][] }> };

/** Opens a tail and collects its messages. */
function openTail(params: Record<string, string | bigint>, on = server, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${on.url.replace('http', 'ws')}/loki/api/v1/tail?${qs(params)}`, { headers });
  const frames: Frame[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const w of waiters.splice(0)) w();
  });
  const lines = () => frames.flatMap((f) => f.streams.flatMap((s) => s.values.map((v) => v[1]!)));
  /** Resolves once `n` lines have arrived in all. */
  const untilLines = (n: number) =>
    new Promise<string[]>((resolve) => {
      const check = () => (lines().length >= n ? resolve(lines()) : waiters.push(check));
      check();
    });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: String(reason) })));
  return { ws, frames, untilLines, opened: new Promise((r) => ws.once('open', r)), closed };
}

describe('/loki/api/v1/tail', () => {
  it("sends the lines since start, then each new line once, in Loki's message shape", async () => {
    const now = nowNanos();
    await server.pushJson({
      streams: [
        {
          stream: { app: 'tail' },
          values: [
            [(now - 2_000_000_000n).toString(), 'old 1'],
            [(now - 1_000_000_000n).toString(), 'old 2'],
          ],
        },
      ],
    });
    const tail = openTail({ query: '{app="tail"} |= "o"', start: now - 10_000_000_000n });
    await tail.opened;
    expect(await tail.untilLines(2)).toEqual(['old 1', 'old 2']);
    expect(tail.frames[0]).toEqual({
      streams: [
        {
          stream: { app: 'tail' },
          values: [
            [(now - 2_000_000_000n).toString(), 'old 1'],
            [(now - 1_000_000_000n).toString(), 'old 2'],
          ],
        },
      ],
    });
    const later = nowNanos();
    await server.pushJson({
      streams: [
        {
          stream: { app: 'tail' },
          values: [
            [later.toString(), 'new one'],
            [later.toString(), 'skipped by the filter: x'],
          ],
        },
      ],
    });
    expect(await tail.untilLines(3)).toEqual(['old 1', 'old 2', 'new one']);
    tail.ws.close();
    await tail.closed;
    // Counted as Loki's middleware counts a WebSocket: ws="true", and no longer in flight once closed.
    await eventually(async () => {
      const text = await (await server.get('/metrics')).text();
      return (
        /^loki_request_duration_seconds_count\{method="GET",route="loki_api_v1_tail",status_code="\d+",ws="true"\} [1-9]/m.test(text) &&
        /^loki_inflight_requests\{method="GET",route="loki_api_v1_tail"\} 0$/m.test(text)
      );
    }, 10_000);
  });

  it("closes a tail over limits_config.max_concurrent_tail_requests per tenant with Loki's error, and takes one again when another closes", async () => {
    const limited = await startTestServer('auth_enabled: true\nlimits_config: {max_concurrent_tail_requests: 2}');
    const tails: Array<ReturnType<typeof openTail>> = [];
    try {
      const tailOf = (tenant: string) => {
        const t = openTail({ query: '{app="tail"}' }, limited, { 'X-Scope-OrgID': tenant });
        tails.push(t);
        return t;
      };
      for (const tenant of ['team-a', 'team-b']) {
        await limited.pushJson(
          { streams: [{ stream: { app: 'tail' }, values: [[nowNanos().toString(), `a line of ${tenant}`]] }] },
          { 'X-Scope-OrgID': tenant },
        );
      }
      // A tail that was taken sends the line; one over the limit is closed (after the upgrade, as in Loki).
      const outcome = (t: ReturnType<typeof openTail>) =>
        Promise.race([t.untilLines(1).then(() => 'taken'), t.closed.then((c) => `closed ${c.code}: ${c.reason}`)]);
      expect(await Promise.all([outcome(tailOf('team-a')), outcome(tailOf('team-a'))])).toEqual(['taken', 'taken']);
      expect(await outcome(tailOf('team-a'))).toBe(
        'closed 1011: rpc error: code = Code(400) desc = max concurrent tail requests limit exceeded, count > limit (3 > 2)',
      );
      expect(await outcome(tailOf('team-b'))).toBe('taken');
      tails[0]!.ws.close();
      await tails[0]!.closed;
      // The server sees the close a moment after the client: wait until a new tail is taken.
      await eventually(async () => (await outcome(tailOf('team-a'))) === 'taken', 10_000);
    } finally {
      for (const t of tails) t.ws.terminate();
      await limited.destroy();
    }
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
    const text = await (await server.get('/metrics')).text();
    expect(text).toMatch(/^loki_request_duration_seconds_count\{method="GET",route="loki_api_v1_tail",status_code="400",ws="true"\} [1-9]/m);
  });
});
