import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseFlags } from './flags.js';
import { loadConfig } from './load.js';

/*
 * The config.yaml the official grafana/loki Helm chart (6.2x) renders for `deploymentMode: Distributed` with
 * the values of our users' guide. Where it came from, and the command, is in the fixture's header. Every
 * component of such an install reads this one file, started as `-config.file=... -target=<component>`.
 */
const FIXTURE = fileURLToPath(new URL('./testdata/helm-distributed-config.yaml', import.meta.url));
const HOUR = 3600n * 1_000_000_000n;
const MINUTE = 60n * 1_000_000_000n;
const SECOND = 1_000_000_000n;

/** Loads the fixture as the program does: command-line flags, then loadConfig. */
function load(...extraArgs: string[]) {
  return loadConfig(parseFlags([`-config.file=${FIXTURE}`, ...extraArgs]), {});
}

/** The key a warning names ("config key <key> is accepted but ..."). */
function warnedKey(warning: string): string {
  return warning.split(' ')[2]!;
}

// Keys the chart writes that loki-lite accepts without acting on them. A key added to the rendered config
// that loki-lite does not know fails the load; one that starts being acted on (or stops being read) changes
// this list. Either way this test is the place that says so.
const EXPECTED_WARNINGS = [
  'bloom_build',
  'bloom_gateway',
  'chunk_store_config',
  'common.compactor_address',
  'common.replication_factor',
  'frontend',
  'frontend_worker',
  'index_gateway',
  'limits_config.max_cache_freshness_per_query',
  'limits_config.volume_enabled',
  'memberlist',
  'pattern_ingester',
  'query_range.cache_results',
  'query_range.results_cache',
  'ruler',
  'server.grpc_listen_port',
  'server.http_server_read_timeout',
  'server.http_server_write_timeout',
  'storage_config.bloom_shipper',
  'storage_config.boltdb_shipper',
  'storage_config.hedging',
  'storage_config.tsdb_shipper',
  'tracing',
];

describe('the config the Loki Helm chart renders for a Distributed install', () => {
  it('loads, with one warning for each key loki-lite accepts but does not act on, and no other', () => {
    const { warnings } = load();
    expect(warnings.map(warnedKey).sort()).toEqual(EXPECTED_WARNINGS);
    for (const w of warnings) expect(w).toMatch(/^config key \S+ is accepted but not implemented by loki-lite yet; it has no effect$/);
  });

  it('reads the server, auth and S3 storage settings', () => {
    const { config } = load();
    expect(config.auth_enabled).toBe(true);
    expect(config.server.http_listen_port).toBe(3100);
    const chunksBucket = { region: 'eu-west-2', bucketnames: 'loki-aws-dev-chunks-123456789012', s3forcepathstyle: false, endpoint: '', insecure: false };
    expect(config.storage_config.aws).toMatchObject(chunksBucket);
    expect(config.common.storage.s3).toMatchObject(chunksBucket);
    expect(config.common.path_prefix).toBe('/var/loki');
    // Loki puts the WAL under common.path_prefix when ingester.wal.dir is not set
    expect(config.ingester.wal.dir).toBe('/var/loki/wal');
  });

  it('reads the schema period and the ingester, limits, querier and query_range settings the chart and the guide set', () => {
    const { config } = load();
    expect(config.schema_config.configs).toEqual([
      {
        from: BigInt(Date.UTC(2024, 3, 1)) * 1_000_000n,
        store: 'tsdb',
        object_store: 's3',
        schema: 'v13',
        index: { prefix: 'loki_index_', period: 24n * HOUR },
      },
    ]);
    expect(config.ingester.chunk_encoding).toBe('snappy');
    expect(config.limits_config).toMatchObject({
      allow_structured_metadata: true,
      reject_old_samples: true,
      reject_old_samples_max_age: 168n * HOUR,
      split_queries_by_interval: 15n * MINUTE,
      query_timeout: 300n * SECOND,
      // neither the chart nor the guide sets the ingestion rates: Loki's defaults stay
      ingestion_rate_mb: 4,
      ingestion_burst_size_mb: 6,
    });
    expect(config.querier.max_concurrent).toBe(4);
    expect(config.query_range.align_queries_with_step).toBe(true);
  });

  it('loads for each -target a Distributed install starts', () => {
    const targets = ['distributor', 'ingester', 'querier', 'query-frontend', 'query-scheduler', 'index-gateway', 'compactor', 'ruler'];
    for (const target of targets) {
      const { config, warnings } = load(`-target=${target}`);
      expect(config.target).toBe(target);
      expect(warnings.map(warnedKey).sort()).toEqual(EXPECTED_WARNINGS);
    }
  });

  it('has no ${...} for -config.expand-env to replace: with it the same config loads, as in Loki', () => {
    const text = readFileSync(FIXTURE, 'utf8');
    expect(text).not.toContain('$');
    const expanded = loadConfig(parseFlags([`-config.file=${FIXTURE}`, '-config.expand-env=true']), { AWS_REGION: 'us-east-1', HOME: '/root' });
    expect(expanded.config).toEqual(load().config);
    expect(expanded.warnings).toEqual(load().warnings);
  });
});
