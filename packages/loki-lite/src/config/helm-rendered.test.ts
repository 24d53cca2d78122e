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
// this list. Either way this test is the place that says so. The distributed-mode keys (the ring, memberlist,
// the frontend and scheduler addresses, the index gateway, the gRPC port) are read, for issue 16's wiring.
const EXPECTED_WARNINGS = [
  'bloom_build',
  'bloom_gateway',
  'chunk_store_config',
  'limits_config.max_cache_freshness_per_query',
  'limits_config.volume_enabled',
  'pattern_ingester',
  'query_range.cache_results',
  'query_range.results_cache',
  'ruler',
  'server.http_server_read_timeout',
  'server.http_server_write_timeout',
  'storage_config.bloom_shipper',
  'storage_config.boltdb_shipper',
  'storage_config.hedging',
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

  it("reads the distributed-mode keys: replication, memberlist, the roles' addresses, the gRPC port", () => {
    const { config } = load();
    expect(config.common).toMatchObject({ replication_factor: 3, compactor_address: 'http://loki-compactor:3100' });
    expect(config.memberlist.join_members).toEqual(['loki-memberlist']);
    // memberlist.join_members puts the ingester ring on memberlist (Loki's applyMemberlistConfig); common.replication_factor is its own
    expect(config.ingester.lifecycler.ring).toMatchObject({ kvstore: { store: 'memberlist' }, replication_factor: 3 });
    expect(config.server.grpc_listen_port).toBe(9095);
    expect(config.frontend).toMatchObject({
      scheduler_address: 'loki-query-scheduler.loki.svc.cluster.local:9095',
      tail_proxy_url: 'http://loki-querier.loki.svc.cluster.local:3100',
    });
    expect(config.frontend_worker.scheduler_address).toBe('loki-query-scheduler.loki.svc.cluster.local:9095');
    expect(config.index_gateway.mode).toBe('simple');
    expect(config.storage_config.tsdb_shipper.index_gateway_client.server_address).toBe('dns+loki-index-gateway-headless.loki.svc.cluster.local:9095');
  });

  // Each role's container args as the chart's templates write them (the ingester's StatefulSet passes a zone).
  const ROLE_ARGS: Record<string, string[]> = {
    distributor: ['-target=distributor'],
    ingester: ['-ingester.availability-zone=zone-default', '-target=ingester'],
    querier: ['-target=querier'],
    'query-frontend': ['-target=query-frontend'],
    'query-scheduler': ['-target=query-scheduler'],
    'index-gateway': ['-target=index-gateway'],
    compactor: ['-target=compactor'],
  };

  it.each(Object.entries(ROLE_ARGS))('loads with the %s container args, warning of none of the distributed-mode keys', (target, args) => {
    const { config, warnings } = load(...args);
    expect(config.target).toBe(target);
    expect(warnings.map(warnedKey).sort()).toEqual(EXPECTED_WARNINGS);
  });

  it("takes the ingester's zone from its -ingester.availability-zone", () => {
    expect(load(...ROLE_ARGS.ingester!).config.ingester.lifecycler.availability_zone).toBe('zone-default');
  });

  it("answers the ruler's args with ruler is not implemented yet", () => {
    expect(() => load('-target=ruler')).toThrow('target: ruler is not implemented yet');
  });

  it('has no ${...} for -config.expand-env to replace: with it the same config loads, as in Loki', () => {
    const text = readFileSync(FIXTURE, 'utf8');
    expect(text).not.toContain('$');
    const expanded = loadConfig(parseFlags([`-config.file=${FIXTURE}`, '-config.expand-env=true']), { AWS_REGION: 'us-east-1', HOME: '/root' });
    expect(expanded.config).toEqual(load().config);
    expect(expanded.warnings).toEqual(load().warnings);
  });
});
