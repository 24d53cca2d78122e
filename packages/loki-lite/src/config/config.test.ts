import { describe, expect, it } from 'vitest';
import { parseFlags, usage } from './flags.js';
import { ConfigError, expandEnv } from '@loki-lite/shared';
import { loadConfig, parseConfig } from './load.js';
import { configProblems } from '../testing/config-problems.js';

// The `loki:` section of the seed's Helm values, as the issue gives it.
const SEED = `
schema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: s3, schema: v13, index: {prefix: loki_index_, period: 24h}}]}
storage_config: {aws: {region: eu-west-2, bucketnames: loki-aws-dev-chunks, s3forcepathstyle: false}}
ingester: {chunk_encoding: snappy}
pattern_ingester: {enabled: true}
limits_config: {allow_structured_metadata: true, volume_enabled: true, retention_period: 672h}
compactor: {retention_enabled: true, delete_request_store: s3}
ruler: {enable_api: true, storage: {type: s3, s3: {region: eu-west-2, bucketnames: loki-aws-dev-ruler, s3forcepathstyle: false}}, alertmanager_url: "http://prom:9093"}
querier: {max_concurrent: 4}
`;

const problems = configProblems;

describe('config', () => {
  it('loads the seed Helm values with one warning per known but unimplemented key', () => {
    const { config, warnings } = parseConfig(SEED);
    expect(config.storage_config.aws).toMatchObject({ region: 'eu-west-2', bucketnames: 'loki-aws-dev-chunks', s3forcepathstyle: false });
    expect(config.schema_config.configs[0]).toMatchObject({ object_store: 's3', schema: 'v13', index: { prefix: 'loki_index_', period: 86_400_000_000_000n } });
    expect(config.ingester.chunk_encoding).toBe('snappy');
    expect(config.auth_enabled).toBe(true);
    const named = warnings.map((w) => w.split(' ')[2]).sort();
    // querier.max_concurrent is a real key now (frontend/admission.ts), so the seed's querier section warns of nothing
    // compactor and limits_config.retention_period are real keys now (compactor/)
    expect(named).toEqual(['limits_config.volume_enabled', 'pattern_ingester', 'ruler']);
    expect(config.querier.max_concurrent).toBe(4);
  });

  it("reads querier.max_concurrent, querier.query_ingesters_within and query_scheduler.max_outstanding_requests_per_tenant with Loki 3's defaults; their sections' other keys warn", () => {
    const withoutQuerier = SEED.replace('querier: {max_concurrent: 4}\n', '');
    const defaults = parseConfig(withoutQuerier).config;
    expect(defaults.querier.max_concurrent).toBe(4);
    expect(defaults.query_scheduler.max_outstanding_requests_per_tenant).toBe(32000);
    const { config, warnings } = parseConfig(
      `${withoutQuerier}querier: {max_concurrent: 2, query_ingesters_within: 3h}\nquery_scheduler: {max_outstanding_requests_per_tenant: 7, querier_forget_delay: 1m}\n`,
    );
    expect(config.querier.max_concurrent).toBe(2);
    expect(config.query_scheduler.max_outstanding_requests_per_tenant).toBe(7);
    expect(
      warnings
        .map((w) => w.split(' ')[2])
        .filter((k) => k!.startsWith('quer'))
        .sort(),
    ).toEqual(['query_scheduler.querier_forget_delay']);
    expect(config.querier.query_ingesters_within).toBe(3n * 3600n * 1_000_000_000n);
    expect(problems(`${withoutQuerier}querier: {max_concurrent: 0}\n`).join('\n')).toContain('querier.max_concurrent');
  });

  it("applies Loki's defaults", () => {
    const { config } = parseConfig(SEED);
    expect(config.server.http_listen_port).toBe(3100);
    expect(config.limits_config).toMatchObject({
      max_line_size: 262_144,
      max_label_names_per_series: 15,
      max_label_name_length: 1024,
      max_label_value_length: 2048,
      reject_old_samples: true,
      reject_old_samples_max_age: 604_800_000_000_000n,
      creation_grace_period: 600_000_000_000n,
      ingestion_rate_mb: 4,
      ingestion_burst_size_mb: 6,
      per_stream_rate_limit: 3_145_728,
      per_stream_rate_limit_burst: 15_728_640,
      max_structured_metadata_size: 65_536,
      max_structured_metadata_entries_count: 128,
      max_entries_limit_per_query: 5000,
    });
    expect(config.ingester).toMatchObject({
      chunk_target_size: 1_572_864,
      chunk_block_size: 262_144,
      max_chunk_age: 7_200_000_000_000n,
      chunk_idle_period: 1_800_000_000_000n,
    });
    expect(config.ingester.wal.dir).toBe('wal');
    expect(Object.isFrozen(config.limits_config)).toBe(true);
  });

  it("reads operational_config.log_duplicate_metrics (off by default) and warns of the section's other keys", () => {
    expect(parseConfig(SEED).config.operational_config.log_duplicate_metrics).toBe(false);
    const { config, warnings } = parseConfig(`${SEED}operational_config: {log_duplicate_metrics: true, log_push_request: true}\n`);
    expect(config.operational_config.log_duplicate_metrics).toBe(true);
    expect(warnings.map((w) => w.split(' ')[2])).toContain('operational_config.log_push_request');
  });

  it('reports every problem at once, naming the key', () => {
    const found = problems(`
schema_config: {configs: [{from: "2024-04-01", store: boltdb, object_store: s3, schema: v13, index: {prefix: x, period: 12h}}]}
storage_config: {aws: {region: eu-west-2}}
ingester: {chunk_encoding: lz5, max_chunk_age: soon, surprise: 1}
limits_config: {max_line_size: huge}
nonsense: true
`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^schema_config\.configs\.0\.store: /),
        expect.stringMatching(/^schema_config\.configs\.0\.index\.period: the tsdb index period must be 24h/),
        expect.stringMatching(/^ingester\.chunk_encoding: /),
        expect.stringMatching(/^ingester\.max_chunk_age: time: invalid duration "soon"/),
        'ingester.surprise: unknown key (not a Loki config key loki-lite knows)',
        expect.stringMatching(/^limits_config\.max_line_size: strconv.UnmarshalText: parsing "huge": invalid syntax/),
        'nonsense: unknown key (not a Loki config key loki-lite knows)',
      ]),
    );
    expect(found.length).toBe(7);
  });

  it('names the file, line and column of a YAML syntax error, one line each', () => {
    expect(problems('server:\n  http_listen_port: 3100\n  log_level: [info\n')).toEqual([expect.stringMatching(/^config: yaml: line 4, column 1: \S.*[^:]$/)]);
    try {
      parseConfig('ingester: {a: 1\n', { configFile: '/etc/loki/loki.yaml' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([expect.stringMatching(/^\/etc\/loki\/loki\.yaml: yaml: line 2, column 1: /)]);
    }
  });

  it("reads durations as Go's time.ParseDuration: a number without a unit is refused, but 0", () => {
    expect(problems(SEED.replace('ingester: {chunk_encoding: snappy}', 'ingester: {chunk_idle_period: 10, max_chunk_age: "90"}'))).toEqual([
      'ingester.max_chunk_age: time: missing unit in duration "90" (examples: 30s, 1h30m, 7d)',
      'ingester.chunk_idle_period: time: missing unit in duration "10" (examples: 30s, 1h30m, 7d)',
    ]);
    expect(
      parseConfig(
        `${SEED}\ncommon: {path_prefix: /tmp/x}\n`.replace(
          'ingester: {chunk_encoding: snappy}',
          'ingester: {chunk_encoding: snappy, chunk_idle_period: 0, max_chunk_age: 90s}',
        ),
      ).config.ingester,
    ).toMatchObject({ chunk_idle_period: 0n, max_chunk_age: 90_000_000_000n });
  });

  it('refuses a push size limit the decoder cannot index, and takes the largest it can', () => {
    const base =
      'common: {path_prefix: /tmp/x}\nschema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: x, period: 24h}}]}\n';
    expect(problems(`${base}distributor: {max_recv_msg_size: 2GiB}`)).toEqual(['distributor.max_recv_msg_size: must be below 2GiB']);
    expect(parseConfig(`${base}distributor: {max_recv_msg_size: 1GiB}`).config.distributor.max_recv_msg_size).toBe(2 ** 30);
  });

  it('checks cross-field rules after the schema', () => {
    expect(problems('schema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: s3, schema: v13, index: {prefix: x, period: 24h}}]}')).toEqual([
      'storage_config.aws.bucketnames: required when object_store is s3',
    ]);
    expect(problems('target: everything\nschema_config: {configs: []}')).toHaveLength(2);
  });

  it('reads the embedded default and applies flags over it', () => {
    const { config, source } = loadConfig(parseFlags(['-server.http-listen-port=3200', '-target', 'all']));
    expect(source).toBe('embedded default');
    expect(config.auth_enabled).toBe(false);
    expect(config.server.http_listen_port).toBe(3200);
    expect(config.storage_config.filesystem?.directory).toBe('./data');
    expect(config.ingester.wal.dir).toBe('data/wal');
  });

  it('expands ${VAR} and ${VAR:-default} only when asked', () => {
    expect(expandEnv('a: ${A}\nb: ${B:-dflt}\nc: $A', { A: 'x' })).toBe('a: x\nb: dflt\nc: x');
  });

  it('takes -help, -h and --help, -version, and -log.format logfmt or json', () => {
    for (const help of ['-help', '-h', '--help']) expect(parseFlags(['-config.file=/x.yaml', help])).toMatchObject({ help: true });
    expect(parseFlags(['-version'])).toMatchObject({ version: true, help: false });
    expect(parseFlags(['-log.format=json', '-print-config-stderr'])).toMatchObject({ logFormat: 'json', printConfig: true });
    expect(() => parseFlags(['-log.format=xml'])).toThrow('invalid value "xml" for -log.format: logfmt or json');
    const text = usage();
    for (const flag of [
      'config.file',
      'config.expand-env',
      'target',
      'ingester.availability-zone',
      'server.http-listen-port',
      'server.http-listen-address',
      'log.level',
      'log.format',
      'print-config-stderr',
      'version',
    ]) {
      expect(text).toMatch(new RegExp(`^  -${flag.replace('.', '\\.')}( string| int)?\n    \t\\S`, 'm'));
    }
    expect(text).toContain('  -server.http-listen-port int\n    \tThe port the HTTP API listens on. (default 3100)\n');
  });

  it('rejects unknown flags like Go does', () => {
    expect(() => parseFlags(['-nope=1'])).toThrow('flag provided but not defined: -nope');
    expect(parseFlags(['-config.file=/x.yaml', '-config.expand-env=true'])).toMatchObject({ configFile: '/x.yaml', expandEnv: true });
  });

  it("takes the delete API's keys with Loki's defaults, and refuses an unknown deletion_mode with Loki's text", () => {
    const base =
      'common: {path_prefix: /tmp/x}\nschema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: x, period: 24h}}]}\n';
    const { config } = parseConfig(base);
    expect(config.limits_config.deletion_mode).toBe('filter-and-delete');
    expect(config.compactor).toMatchObject({ delete_request_cancel_period: 86_400_000_000_000n, delete_max_interval: 86_400_000_000_000n });
    expect(parseConfig(`${base}compactor: {delete_request_cancel_period: 10m}`).config.compactor.delete_request_cancel_period).toBe(600_000_000_000n);
    expect(problems(`${base}limits_config: {deletion_mode: sometimes}`)).toEqual([
      'limits_config.deletion_mode: unknown deletion mode: must be one of disabled|filter-only|filter-and-delete',
    ]);
  });
});
