import { afterEach, describe, expect, it } from 'vitest';
import { RecordingLogger } from '../testing/recording-logger.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/* The lines Loki's server writes per request (dskit middleware.Log) and per push ("push request parsed"). */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});

const DURATION = '\\d+(\\.\\d+)?(ns|µs|ms|s)';
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

describe('request log', () => {
  it('at debug: one line per request with method, path, status and Go duration; a push also says what it carried', async () => {
    const log = new RecordingLogger('debug');
    server = await startTestServer('', { log });
    const ts = String(nowNs() - 2_000_000_000n);
    const push = await server.pushJson(
      {
        streams: [
          {
            stream: { app: 'api' },
            values: [
              [ts, 'hello'],
              [ts, 'world', { trace_id: 'abc' }],
            ],
          },
        ],
      },
      { 'user-agent': 'promtail/2.9.0' },
    );
    expect(push.status).toBe(204);
    expect((await server.get('/loki/api/v1/query?query=%7B')).status).toBe(400);

    expect(log.withMsg(new RegExp(`^POST /loki/api/v1/push \\(204\\) ${DURATION}$`))).toHaveLength(1);
    expect(log.withMsg(new RegExp(`^GET /loki/api/v1/query\\?query=%7B \\(400\\) ${DURATION}$`))).toHaveLength(1);
    const [parsed] = log.withMsg(/^push request parsed$/);
    expect(parsed).toMatchObject({
      level: 'debug',
      fields: {
        path: '/loki/api/v1/push',
        contentType: 'application/json',
        contentEncoding: '',
        bodySize: expect.stringMatching(/^\d+ B$/),
        streams: 1,
        entries: 2,
        streamLabelsSize: '11 B',
        entriesSize: '21 B',
        structuredMetadataSize: '11 B',
        totalSize: '32 B',
        userAgent: 'promtail/2.9.0',
      },
    });
    expect(parsed!.fields.mostRecentLagMs).toBeGreaterThanOrEqual(2000);
  });

  it('at info, none of those lines is built; log_request_at_info_level_enabled puts the request lines at info', async () => {
    const quiet = new RecordingLogger('info');
    server = await startTestServer('', { log: quiet });
    expect((await server.pushJson({ streams: [{ stream: { app: 'api' }, values: [[String(nowNs()), 'x']] }] })).status).toBe(204);
    expect(quiet.withMsg(/push|POST/)).toEqual([]);
    await server.destroy();

    const atInfo = new RecordingLogger('info');
    server = await startTestServer('server: {log_request_at_info_level_enabled: true}', { log: atInfo });
    expect((await server.get('/ready')).status).toBe(200);
    expect(atInfo.withMsg(/^GET \/ready \(200\)/).map((l) => l.level)).toEqual(['info']);
  });
});
