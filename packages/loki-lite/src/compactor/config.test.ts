import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../config/flags.js';
import { loadConfig, parseConfig } from '../config/load.js';
import { configProblems } from '../testing/config-problems.js';

const BASE = `schema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
storage_config: {filesystem: {directory: /tmp/loki-lite-config-test}}
`;
const MINUTE = 60_000_000_000n;
const EXAMPLE = fileURLToPath(new URL('../../config/retention.yaml', import.meta.url));
const HOUR = 60n * MINUTE;

describe('compactor and retention config', () => {
  it("has Loki's defaults: no retention, data kept for ever", () => {
    const { config, warnings } = parseConfig(BASE);
    expect(warnings).toEqual([]);
    expect(config.compactor).toEqual({
      working_directory: '/var/loki/compactor',
      compaction_interval: 10n * MINUTE,
      apply_retention_interval: 0n,
      retention_enabled: false,
      retention_delete_delay: 2n * HOUR,
      retention_delete_worker_count: 150,
      delete_request_store: '',
      delete_batch_size: 70,
      delete_request_cancel_period: 24n * HOUR,
      delete_max_interval: 24n * HOUR,
      max_compaction_parallelism: 1,
      tables_to_compact: 0,
      skip_latest_n_tables: 0,
    });
    expect(config.limits_config.retention_period).toBe(0n);
    expect(config.limits_config.retention_stream).toEqual([]);
  });

  it('puts the working directory under common.path_prefix unless it is set', () => {
    expect(parseConfig(`${BASE}common: {path_prefix: /data/loki/}\n`).config.compactor.working_directory).toBe('/data/loki/compactor');
    expect(parseConfig(`${BASE}common: {path_prefix: /data}\ncompactor: {working_directory: /w}\n`).config.compactor.working_directory).toBe('/w');
  });

  it("refuses retention without a delete_request_store with Loki 3's message", () => {
    expect(configProblems(`${BASE}compactor: {retention_enabled: true}\n`)).toEqual([
      'invalid compactor config: compactor.delete-request-store should be configured when retention is enabled',
    ]);
    expect(configProblems(`${BASE}compactor: {max_compaction_parallelism: 0}\n`)).toEqual([
      'invalid compactor config: max compaction parallelism must be >= 1',
    ]);
  });

  it('adjusts apply_retention_interval as Loki does: 0 is the compaction interval, and that one gets min(10m, half) more', () => {
    const interval = (yaml: string) =>
      parseConfig(`${BASE}compactor: {retention_enabled: true, delete_request_store: filesystem, ${yaml}}\n`).config.compactor.apply_retention_interval;
    expect(interval('')).toBe(15n * MINUTE); // 10m + min(10m, 5m)
    expect(interval('compaction_interval: 4m')).toBe(6n * MINUTE);
    expect(interval('compaction_interval: 4m, apply_retention_interval: 4m')).toBe(6n * MINUTE);
    expect(interval('apply_retention_interval: 1h')).toBe(HOUR);
    // without retention nothing is adjusted, as in Loki
    expect(parseConfig(BASE).config.compactor.apply_retention_interval).toBe(0n);
  });

  it("reads retention_period and retention_stream, refusing a rule under 24h or a selector with Loki's texts", () => {
    const { config } = parseConfig(
      `${BASE}limits_config: {retention_period: 672h, retention_stream: [{selector: '{namespace="dev"}', priority: 1, period: 7d}]}\n`,
    );
    expect(config.limits_config.retention_period).toBe(672n * HOUR);
    expect(config.limits_config.retention_stream).toEqual([{ selector: '{namespace="dev"}', priority: 1, period: 168n * HOUR }]);
    expect(configProblems(`${BASE}limits_config: {retention_stream: [{selector: '{a="b"}', period: 5h}]}\n`)).toEqual([
      'limits_config.retention_stream.0.period: retention period must be >= 24h was 5h',
    ]);
    const [problem] = configProblems(`${BASE}limits_config: {retention_stream: [{selector: '{a="b"} |= "x"', period: 24h}]}\n`);
    expect(problem).toMatch(/^limits_config\.retention_stream\.0\.selector: invalid labels matchers: /);
  });
});

describe('the retention example config', () => {
  it('loads without warnings and keeps 28 days, with retention on', () => {
    const { config, warnings } = loadConfig(parseFlags([`-config.file=${EXAMPLE}`]));
    expect(warnings).toEqual([]);
    expect(config.limits_config.retention_period).toBe(672n * HOUR);
    expect(config.compactor).toMatchObject({ retention_enabled: true, delete_request_store: 'filesystem', apply_retention_interval: 15n * MINUTE });
    expect(config.compactor.working_directory).toBe('data/compactor');
  });
});
