import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ticker } from '../util/ticker.js';
import { RecordingLogger } from '../testing/recording-logger.js';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

/** A ticker the test runs by hand: each tick is one reload of the runtime config, awaited. */
function manualTicker(): { ticker: Ticker; tick: () => Promise<void> } {
  let run: (() => unknown) | undefined;
  return {
    ticker: (_ms, tick) => {
      run = tick;
      return () => (run = undefined);
    },
    tick: async () => {
      await run!();
    },
  };
}

const NOW_S = BigInt(Math.floor(Date.now() / 1000));
const H = 3600n;

describe('runtime_config overrides through the HTTP server', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'runtime-config-server-'));
    file = path.join(dir, 'overrides.yaml');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const start = (opts: { log?: RecordingLogger; runtimeConfigTicker?: Ticker } = {}) =>
    startTestServer(`auth_enabled: true\nruntime_config: {file: ${JSON.stringify(file)}, period: 10s}\n`, { dir: path.join(dir, 'data'), ...opts });
  const push = (server: TestServer, tenant: string, line: string) =>
    server.pushJson({ streams: [{ stream: { app: 'x' }, values: [[`${NOW_S}000000000`, line]] }] }, { 'X-Scope-OrgID': tenant });
  const queryHours = (server: TestServer, tenant: string, hours: bigint) =>
    server.get(`/loki/api/v1/query_range?${qs({ query: '{app="x"}', start: `${NOW_S - hours * H}`, end: `${NOW_S}` })}`, { 'X-Scope-OrgID': tenant });

  it("applies a tenant's overrides to that tenant only, picks a changed file up at the next period, and keeps the last good one when the file breaks", async () => {
    writeFileSync(file, 'overrides:\n  strict: {ingestion_rate_mb: 0.001, ingestion_burst_size_mb: 0.001}\n  short: {max_query_length: 1h}\n');
    const log = new RecordingLogger('info');
    const clock = manualTicker();
    const server = await start({ log, runtimeConfigTicker: clock.ticker });
    try {
      const big = 'x'.repeat(2000);
      const limited = await push(server, 'strict', big);
      expect(limited.status).toBe(429);
      expect(await limited.text()).toMatch(/^Ingestion rate limit exceeded for user strict \(limit: 1048 bytes\/sec\)/);
      expect((await push(server, 'other', big)).status).toBe(204);

      const tooLong = await queryHours(server, 'short', 2n);
      expect(tooLong.status).toBe(400);
      expect(await tooLong.text()).toContain('the query time range exceeds the limit (query length: 2h, limit: 1h)');
      expect((await queryHours(server, 'other', 2n)).status).toBe(200);

      writeFileSync(file, 'overrides:\n  short: {max_query_length: 3h}\n');
      await clock.tick();
      expect((await queryHours(server, 'short', 2n)).status).toBe(200);
      expect((await queryHours(server, 'short', 4n)).status).toBe(400);
      expect(await (await server.get('/runtime_config?mode=diff')).text()).toBe('overrides:\n  short:\n    max_query_length: 3h0m0s\n');

      writeFileSync(file, 'overrides: [\n');
      await clock.tick();
      expect((await queryHours(server, 'short', 2n)).status).toBe(200);
      expect((await queryHours(server, 'short', 4n)).status).toBe(400);
      expect(log.withMsg(/^failed to load config$/).map((l) => [l.level, l.fields.err])).toEqual([
        ['error', expect.stringMatching(new RegExp(`^unmarshal file "${file}": yaml: line`)) as unknown],
      ]);
      const metrics = await (await server.get('/metrics')).text();
      expect(metrics).toContain('\nloki_runtime_config_last_reload_successful{config="loki"} 0\n');
      expect(metrics).toMatch(/\nloki_runtime_config_hash\{config="loki",sha256="[0-9a-f]{64}"\} 1\n/);
    } finally {
      await server.destroy();
    }
  });

  it('changes the ingestion rate and stream limits of a tenant that already pushed, at the reload', async () => {
    writeFileSync(file, 'overrides:\n  t: {max_global_streams_per_user: 1}\n');
    const clock = manualTicker();
    const server = await start({ runtimeConfigTicker: clock.ticker });
    const pushTo = (app: string, line: string) =>
      server.pushJson({ streams: [{ stream: { app }, values: [[`${NOW_S}000000000`, line]] }] }, { 'X-Scope-OrgID': 't' });
    try {
      expect((await pushTo('a', 'x'.repeat(2000))).status).toBe(204);
      expect((await pushTo('b', 'x')).status).toBe(429);

      writeFileSync(file, 'overrides:\n  t: {max_global_streams_per_user: 2, ingestion_rate_mb: 0.001, ingestion_burst_size_mb: 0.001}\n');
      await clock.tick();
      expect((await pushTo('b', 'x')).status).toBe(204);
      const limited = await pushTo('a', 'x'.repeat(2000));
      expect(limited.status).toBe(429);
      expect(await limited.text()).toMatch(/^Ingestion rate limit exceeded for user t \(limit: 1048 bytes\/sec\)/);
    } finally {
      await server.destroy();
    }
  });

  it('detects log levels for a tenant whose overrides turn discover_log_levels on, and not for the others', async () => {
    writeFileSync(file, 'overrides:\n  lv: {discover_log_levels: true}\n');
    const server = await start();
    try {
      const levels = async (tenant: string) => {
        expect((await push(server, tenant, 'level=error msg=boom')).status).toBe(204);
        const query = 'sum by (detected_level) (count_over_time({app="x"}[5m]))';
        const res = await server.get(`/loki/api/v1/query?${qs({ query, time: `${NOW_S + 1n}` })}`, { 'X-Scope-OrgID': tenant });
        const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string> }> } };
        return body.data.result.map((r) => r.metric);
      };
      expect(await levels('lv')).toEqual([{ detected_level: 'error' }]);
      expect(await levels('other')).toEqual([{}]);
    } finally {
      await server.destroy();
    }
  });

  it('serves the overrides in force at /runtime_config as YAML, all limits or only those that differ', async () => {
    writeFileSync(file, 'overrides:\n  a: {max_query_series: 5, max_line_size: 256KB}\n');
    const server = await start();
    try {
      const all = await server.get('/runtime_config');
      expect(all.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const text = await all.text();
      expect(text).toMatch(/^overrides:\n {2}a:\n {4}ingestion_rate_strategy: global\n/);
      expect(text).toContain('\n    max_query_series: 5\n');
      expect(text).toContain('\n    max_line_size: 262144\n');
      // 256KB is limits_config's own default: no difference
      expect(await (await server.get('/runtime_config?mode=diff')).text()).toBe('overrides:\n  a:\n    max_query_series: 5\n');
      expect(await (await server.get('/services')).text()).toMatch(/^runtime-config => Running\n/);
    } finally {
      await server.destroy();
    }
  });

  it("reads Loki's deprecated limits_config.per_tenant_override_config when runtime_config.file is unset", async () => {
    writeFileSync(file, 'overrides:\n  a: {max_query_series: 5}\n');
    const server = await startTestServer(`limits_config: {per_tenant_override_config: ${JSON.stringify(file)}, per_tenant_override_period: 1m}\n`, {
      dir: path.join(dir, 'data'),
    });
    try {
      expect(await (await server.get('/runtime_config?mode=diff')).text()).toBe('overrides:\n  a:\n    max_query_series: 5\n');
    } finally {
      await server.destroy();
    }
  });

  it('says there is no runtime config when runtime_config.file names none', async () => {
    const server = await startTestServer('', { dir: path.join(dir, 'data') });
    try {
      expect(await (await server.get('/runtime_config')).text()).toBe("runtime config file doesn't exist");
    } finally {
      await server.destroy();
    }
  });

  it('fails the start on a bad overrides file with a message that names the tenant and the key', async () => {
    writeFileSync(file, 'overrides:\n  a: {max_line_size: huge}\n');
    await expect(start()).rejects.toThrow(
      /^failed to load runtime config: load file: invalid override for tenant a: max_line_size: strconv.UnmarshalText: parsing "huge": invalid syntax/,
    );
  });
});
