import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StartupError } from '@loki-lite/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { Metrics } from '../metrics.js';
import { RecordingLogger } from '../testing/recording-logger.js';
import { Limits } from './limits.js';
import { parseRuntimeConfig, runtimeConfigYaml } from './runtime-config.js';
import { RuntimeConfigReloader } from './runtime-config-reloader.js';
import type { Ticker } from '../util/ticker.js';

const BASE =
  'schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\nstorage_config: {filesystem: {directory: /tmp/x}}\n';
const defaults = parseConfig(`${BASE}limits_config: {max_line_size: 1KB}`).config.limits_config;
const H = 3_600_000_000_000n;

const parse = (...texts: string[]) =>
  parseRuntimeConfig(
    texts.map((text, i) => ({ path: `f${i}.yaml`, text })),
    defaults,
  );

describe('parseRuntimeConfig', () => {
  it("reads Loki's overrides layout: per tenant only the keys it sets, validated as limits_config", () => {
    const { overrides, warnings } = parse('overrides:\n  a: {max_line_size: 10B, max_query_length: 1h}\n  "b.c": {reject_old_samples: false}\n');
    expect(overrides.get('a')).toEqual({ max_line_size: 10, max_query_length: H });
    expect(overrides.get('b.c')).toEqual({ reject_old_samples: false });
    expect(warnings).toEqual([]);
  });

  it('merges several files from left to right: tenants and their keys merged, values of the later file win', () => {
    const { overrides } = parse(
      'overrides:\n  a: {max_line_size: 10B, max_query_series: 5}\n',
      'overrides:\n  a: {max_line_size: 20B}\n  b: {max_query_series: 7}\n',
    );
    expect(overrides.get('a')).toEqual({ max_line_size: 20, max_query_series: 5 });
    expect(overrides.get('b')).toEqual({ max_query_series: 7 });
  });

  it("fails with Loki's texts: the tenant and the key, with the same message limits_config gives", () => {
    expect(() => parse('overrides:\n  a: {max_line_size: huge}\n')).toThrow(
      /^load file: invalid override for tenant a: max_line_size: strconv.UnmarshalText: parsing "huge": invalid syntax/,
    );
    expect(() => parse('overrides:\n  a: {max_query_length: 5}\n')).toThrow(/^load file: invalid override for tenant a: max_query_length: time: missing unit/);
    expect(() => parse('overrides:\n  a: {no_such_limit: 1}\n')).toThrow('load file: invalid override for tenant a: no_such_limit: unknown key');
    expect(() => parse('overridez: {}\n')).toThrow(
      'unmarshal file "f0.yaml": yaml: unmarshal errors: field overridez not found in type loki.runtimeConfigValues',
    );
    expect(() => parse('overrides: [\n')).toThrow(/^unmarshal file "f0.yaml": yaml: line/);
    expect(() => parse('overrides: {a: {max_line_size: 1}}\n', 'overrides: {a: 3}\n')).toThrow(
      'conflicting types for "overrides.a": map[string]interface {} != int',
    );
  });

  it('warns, as the main config does, about a key loki-lite does not implement yet, and skips an empty tenant', () => {
    const { overrides, warnings } = parse('overrides:\n  a: {max_line_size: 10B, volume_enabled: true}\n  empty:\nconfigs: {a: {log_push_request: true}}\n');
    expect(overrides.get('a')).toEqual({ max_line_size: 10 });
    expect(overrides.has('empty')).toBe(false);
    expect(warnings).toEqual([
      'runtime config f0.yaml: config key configs is accepted but not implemented by loki-lite yet; it has no effect',
      'overrides of tenant a: config key volume_enabled is accepted but not implemented by loki-lite yet; it has no effect',
      'skipping empty tenant limit definition (tenant empty)',
    ]);
  });
});

describe('Limits with overrides', () => {
  it('answers the defaults, the raw keys a tenant sets, and the merged limits', () => {
    const limits = new Limits(defaults, parse('overrides:\n  a: {max_query_series: 5}\n').overrides);
    expect(limits.defaults()).toBe(defaults);
    expect(limits.tenantOverrides('a')).toEqual({ max_query_series: 5 });
    expect(limits.tenantOverrides('b')).toBeUndefined();
    expect(limits.forTenant('a')).toEqual({ ...defaults, max_query_series: 5 });
    expect(limits.forTenant('b')).toBe(defaults);
  });

  it('prints the overrides in force as YAML: every limit of each tenant, or with mode=diff only what differs', () => {
    const limits = new Limits(defaults, parse('overrides:\n  b: {max_query_length: 1h}\n  a: {max_line_size: 1KB, max_query_series: 5}\n').overrides);
    const all = runtimeConfigYaml(limits, 'all');
    expect(all).toMatch(/^overrides:\n {2}a:\n {4}ingestion_rate_strategy: global\n/);
    expect(all).toContain('\n  b:\n    ingestion_rate_strategy: global\n');
    expect(all).toContain('    max_query_length: 1h0m0s\n');
    // a's max_line_size is the default's: not a difference
    expect(runtimeConfigYaml(limits, 'diff')).toBe('overrides:\n  a:\n    max_query_series: 5\n  b:\n    max_query_length: 1h0m0s\n');
  });
});

/** A ticker the test runs by hand: each tick is one reload, awaited. */
function manualTicker(): { ticker: Ticker; tick: () => Promise<void>; periodMs: () => number | undefined } {
  let run: (() => unknown) | undefined;
  let period: number | undefined;
  return {
    ticker: (ms, tick) => {
      run = tick;
      period = ms;
      return () => (run = undefined);
    },
    tick: async () => {
      await run!();
    },
    periodMs: () => period,
  };
}

describe('RuntimeConfigReloader', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'runtime-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const setUp = (files: string, periodNs = 10_000_000_000n) => {
    const limits = new Limits(defaults);
    const metrics = new Metrics('test');
    const log = new RecordingLogger('info');
    const clock = manualTicker();
    const reloader = new RuntimeConfigReloader({ files, periodNs, limits, metrics, log, ticker: clock.ticker });
    const metric = async (name: string) => (await metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
    return { limits, log, clock, reloader, metric };
  };

  it('loads at start, picks a changed file up at the next period, and keeps the last good overrides when a file breaks', async () => {
    const file = path.join(dir, 'overrides.yaml');
    writeFileSync(file, 'overrides:\n  a: {max_query_series: 5}\n');
    const { limits, log, clock, reloader, metric } = setUp(file);
    await reloader.start();
    try {
      expect(clock.periodMs()).toBe(10_000);
      expect(limits.forTenant('a').max_query_series).toBe(5);
      expect(await metric('loki_runtime_config_last_reload_successful')).toEqual(['loki_runtime_config_last_reload_successful{config="loki"} 1']);
      const [hashLine] = await metric('loki_runtime_config_hash');
      expect(hashLine).toMatch(/^loki_runtime_config_hash\{config="loki",sha256="[0-9a-f]{64}"\} 1$/);

      writeFileSync(file, 'overrides:\n  a: {max_query_series: 6}\n  b: {max_query_series: 7}\n');
      await clock.tick();
      expect(limits.forTenant('a').max_query_series).toBe(6);
      expect(limits.forTenant('b').max_query_series).toBe(7);
      expect(await metric('loki_runtime_config_hash')).not.toContain(hashLine);

      writeFileSync(file, 'overrides:\n  a: {max_query_series: -1}\n');
      await clock.tick();
      expect(limits.forTenant('a').max_query_series).toBe(6);
      expect(await metric('loki_runtime_config_last_reload_successful')).toEqual(['loki_runtime_config_last_reload_successful{config="loki"} 0']);
      expect(log.withMsg(/^failed to load config$/)).toEqual([
        {
          level: 'error',
          fields: { msg: 'failed to load config', err: expect.stringMatching(/^load file: invalid override for tenant a: max_query_series: /) as unknown },
        },
      ]);

      rmSync(file);
      await clock.tick();
      expect(log.withMsg(/^failed to load config$/)[1]!.fields.err).toMatch(/^read file ".*overrides.yaml": ENOENT/);
      expect(limits.forTenant('b').max_query_series).toBe(7);
    } finally {
      await reloader.stop();
    }
  });

  it('reads a comma-separated list of files, the later overriding the earlier', async () => {
    const [first, second] = [path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')];
    writeFileSync(first, 'overrides:\n  a: {max_query_series: 5, max_entries_limit_per_query: 10}\n');
    writeFileSync(second, 'overrides:\n  a: {max_query_series: 6}\n');
    const { limits, reloader } = setUp(`${first}, ${second}`);
    await reloader.start();
    try {
      expect(limits.tenantOverrides('a')).toEqual({ max_query_series: 6, max_entries_limit_per_query: 10 });
    } finally {
      await reloader.stop();
    }
  });

  it('fails the start on a bad file, saying so as Loki does', async () => {
    const file = path.join(dir, 'overrides.yaml');
    writeFileSync(file, 'overrides:\n  a: {max_line_size: huge}\n');
    const { reloader } = setUp(file);
    const started = reloader.start();
    await expect(started).rejects.toBeInstanceOf(StartupError);
    await expect(started).rejects.toThrow(/^failed to load runtime config: load file: invalid override for tenant a: max_line_size: /);
    await expect(setUp(path.join(dir, 'missing.yaml')).reloader.start()).rejects.toThrow(/^failed to load runtime config: read file ".*missing.yaml": ENOENT/);
  });
});
