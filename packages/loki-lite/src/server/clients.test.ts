import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

/* Real npm Loki clients, unmodified, pointed at loki-lite. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.destroy());

/** Polls until the selector returns `count` lines (clients send asynchronously), then returns them. */
async function linesOf(selector: string, count: number): Promise<Array<{ labels: Record<string, string>; line: string }>> {
  const now = BigInt(Date.now()) * 1_000_000n;
  let found: Array<{ labels: Record<string, string>; line: string }> = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    const res = await server.get(
      `/loki/api/v1/query_range?${qs({ query: selector, start: now - 3_600_000_000_000n, end: now + 3_600_000_000_000n, direction: 'forward' })}`,
    );
    const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: string[][] }> } };
    // In time order: the answer's streams come in label order, as Loki's.
    found = body.data.result
      .flatMap((s) => s.values.map((v) => ({ ts: BigInt(v[0]!), labels: s.stream, line: v[1]! })))
      .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
      .map(({ labels, line }) => ({ labels, line }));
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return found;
}

describe('winston-loki', () => {
  it.each([
    ['protobuf + snappy', false, 'application/x-protobuf'],
    ['JSON', true, 'application/json'],
  ])('pushes in %s mode', async (mode, json, contentType) => {
    const transport = new LokiTransport({
      host: server.url,
      json,
      batching: false,
      labels: { app: 'winston', mode: json ? 'json' : 'proto' },
      onConnectionError: (e: unknown) => {
        throw e;
      },
    });
    // winston-loki silently falls back to JSON when its snappy binding is missing: prove which one ran.
    expect((transport as unknown as { batcher: { contentType: string } }).batcher.contentType).toBe(contentType);
    const logger = winston.createLogger({ transports: [transport] });
    logger.info(`hello from winston ${mode}`);
    logger.warn('second line', { user: 'ada' });
    const lines = await linesOf(`{app="winston", mode="${json ? 'json' : 'proto'}"}`, 2);
    expect(lines.map((l) => l.line)).toEqual([expect.stringContaining(`hello from winston ${mode}`), expect.stringContaining('second line')]);
    expect(lines[1]!.labels).toMatchObject({ app: 'winston', level: 'warn' });
    logger.close();
  });
});

describe('pino-loki', () => {
  it('pushes JSON lines with its labels', async () => {
    const logger = pino({}, pinoLoki({ host: server.url, batching: false, labels: { app: 'pino' } }));
    logger.info({ step: 1 }, 'hello from pino');
    logger.error('it broke');
    // pino stamps in milliseconds, so both lines may share a timestamp: compare them as a set.
    const lines = await linesOf('{app="pino"}', 2);
    const byMsg = lines.map((l) => [(JSON.parse(l.line) as { msg: string }).msg, l.labels.level]).sort();
    expect(byMsg).toEqual([
      ['hello from pino', 'info'],
      ['it broke', 'error'],
    ]);
  });
});
