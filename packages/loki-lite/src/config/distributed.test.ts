import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { configProblems as problems } from '../testing/config-problems.js';

/*
 * Loki's distributed-mode keys (issue 16): parsed with Loki's defaults, read with Go's duration rules, and
 * combined as Loki's config_wrapper.go combines common.ring, memberlist and the ingester's own ring section.
 */

const SCHEMA = 'schema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\n';
const BASE = `${SCHEMA}storage_config: {filesystem: {directory: /tmp/x}}\n`;

const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;

/** The config of BASE with `yaml` after it. */
function load(yaml = '') {
  return parseConfig(BASE + yaml);
}

const warned = (yaml: string) => load(yaml).warnings.map((w) => w.split(' ')[2]);

describe("distributed mode's configuration", () => {
  it("has Loki's defaults, and an empty file warns of none of it", () => {
    const { config, warnings } = load();
    expect(warnings).toEqual([]);
    expect(config.server).toMatchObject({ grpc_listen_port: 9095, grpc_listen_address: '' });
    expect(config.common).toMatchObject({ replication_factor: 3, instance_addr: '', compactor_address: '', compactor_grpc_address: '' });
    expect(config.common.ring).toEqual({
      kvstore: { store: 'inmemory', prefix: 'collectors/' },
      heartbeat_period: 15n * SECOND,
      heartbeat_timeout: MINUTE,
      instance_id: hostname(),
      instance_interface_names: [],
      instance_port: 0,
      instance_addr: '',
      instance_availability_zone: '',
    });
    expect(config.memberlist).toEqual({
      join_members: [],
      bind_addr: [],
      bind_port: 7946,
      advertise_addr: '',
      advertise_port: 7946,
      dead_node_reclaim_time: 0n,
      abort_if_cluster_join_fails: false,
      rejoin_interval: 0n,
      left_ingesters_timeout: 5n * MINUTE,
    });
    expect(config.ingester.lifecycler).toEqual({
      ring: { kvstore: { store: 'inmemory', prefix: 'collectors/' }, heartbeat_timeout: MINUTE, replication_factor: 3 },
      num_tokens: 128,
      heartbeat_period: 5n * SECOND,
      heartbeat_timeout: MINUTE,
      observe_period: 0n,
      join_after: 0n,
      min_ready_duration: 15n * SECOND,
      interface_names: [],
      final_sleep: 0n,
      availability_zone: '',
      unregister_on_shutdown: true,
      readiness_check_ring_health: true,
      address: '',
      port: 0,
      id: hostname(),
    });
    expect(config.frontend).toEqual({
      scheduler_address: '',
      address: '',
      max_outstanding_per_tenant: 2048,
      compress_responses: true,
      log_queries_longer_than: 0n,
      tail_proxy_url: '',
    });
    expect(config.frontend_worker).toMatchObject({ scheduler_address: '', frontend_address: '' });
    expect(config.index_gateway.mode).toBe('simple');
    expect(config.storage_config.tsdb_shipper.index_gateway_client.server_address).toBe('');
    expect(config.querier.query_ingesters_within).toBe(180n * MINUTE);
    expect(config.query_scheduler.max_outstanding_requests_per_tenant).toBe(32000);
    expect(config.ingester_client).toMatchObject({
      remote_timeout: 5n * SECOND,
      pool_config: { client_cleanup_period: 15n * SECOND, health_check_ingesters: true, remote_timeout: SECOND },
    });
    for (const client of [config.ingester_client.grpc_client_config, config.frontend_worker.grpc_client_config]) {
      expect(client).toEqual({
        max_recv_msg_size: 104_857_600,
        max_send_msg_size: 104_857_600,
        grpc_compression: '',
        rate_limit: 0,
        rate_limit_burst: 0,
        backoff_on_ratelimits: false,
        backoff_config: { min_period: 100_000_000n, max_period: 10n * SECOND, max_retries: 10 },
        initial_stream_window_size: 65_535,
        initial_connection_window_size: 65_535,
        connect_timeout: 5n * SECOND,
        connect_backoff_base_delay: SECOND,
        connect_backoff_max_delay: 5n * SECOND,
        cluster_validation: { label: '' },
      });
    }
  });

  it('reads every key it parses without a warning, and keeps warning of what distributed mode does not do', () => {
    const yaml = `server: {grpc_listen_port: 9096, grpc_listen_address: 127.0.0.1}
memberlist: {join_members: ["dns+loki-memberlist.loki.svc:7946"], bind_port: 7947, bind_addr: [10.0.0.1], advertise_addr: 10.0.0.1, advertise_port: 7948, dead_node_reclaim_time: 1m, abort_if_cluster_join_fails: true, rejoin_interval: 30s, left_ingesters_timeout: 10m, gossip_nodes: 3, tls_enabled: true}
ingester: {lifecycler: {ring: {replication_factor: 3, heartbeat_timeout: 2m, kvstore: {store: memberlist}, zone_awareness_enabled: true}, num_tokens: 64, heartbeat_period: 10s, join_after: 5s, min_ready_duration: 0s, final_sleep: 30s, id: ingester-0, availability_zone: a, address: 10.0.0.2, port: 9095, interface_names: [eth1], tokens_file_path: /t}}
frontend: {scheduler_address: "sched:9095", address: 10.0.0.3, max_outstanding_per_tenant: 100, compress_responses: false, log_queries_longer_than: 5s, tail_proxy_url: "http://querier:3100", scheduler_worker_concurrency: 5}
frontend_worker: {scheduler_address: "sched:9095", grpc_client_config: {max_send_msg_size: 1000, grpc_compression: snappy, tls_enabled: true}}
querier: {query_ingesters_within: 2h}
index_gateway: {mode: ring}
ingester_client: {remote_timeout: 10s, pool_config: {client_cleanup_period: 1m, health_check_ingesters: false, remote_timeout: 2s}, grpc_client_config: {grpc_compression: gzip}}
`;
    const { config, warnings } = parseConfig(
      `${BASE.replace('}}\n', '}, tsdb_shipper: {index_gateway_client: {server_address: "dns+gw:9095"}, cache_ttl: 24h}}\n')}common: {replication_factor: 2, instance_addr: 10.0.0.9, compactor_address: "http://compactor:3100", compactor_grpc_address: "compactor:9095", ring: {kvstore: {store: memberlist}}}\n${yaml}`,
    );
    expect(warnings.map((w) => w.split(' ')[2]).sort()).toEqual([
      'frontend.scheduler_worker_concurrency',
      'frontend_worker.grpc_client_config.tls_enabled',
      'ingester.lifecycler.ring.zone_awareness_enabled',
      'ingester.lifecycler.tokens_file_path',
      'memberlist.gossip_nodes',
      'memberlist.tls_enabled',
      'storage_config.tsdb_shipper.cache_ttl',
    ]);
    expect(config.server).toMatchObject({ grpc_listen_port: 9096, grpc_listen_address: '127.0.0.1' });
    expect(config.common).toMatchObject({ replication_factor: 2, compactor_address: 'http://compactor:3100', compactor_grpc_address: 'compactor:9095' });
    expect(config.memberlist).toEqual({
      join_members: ['dns+loki-memberlist.loki.svc:7946'],
      bind_addr: ['10.0.0.1'],
      bind_port: 7947,
      advertise_addr: '10.0.0.1',
      advertise_port: 7948,
      dead_node_reclaim_time: MINUTE,
      abort_if_cluster_join_fails: true,
      rejoin_interval: 30n * SECOND,
      left_ingesters_timeout: 10n * MINUTE,
    });
    expect(config.ingester.lifecycler).toMatchObject({
      ring: { replication_factor: 3, heartbeat_timeout: 2n * MINUTE, kvstore: { store: 'memberlist' } },
      num_tokens: 64,
      heartbeat_period: 10n * SECOND,
      join_after: 5n * SECOND,
      min_ready_duration: 0n,
      final_sleep: 30n * SECOND,
      id: 'ingester-0',
      availability_zone: 'a',
      address: '10.0.0.2',
      port: 9095,
      interface_names: ['eth1'],
    });
    expect(config.frontend).toEqual({
      scheduler_address: 'sched:9095',
      address: '10.0.0.3',
      max_outstanding_per_tenant: 100,
      compress_responses: false,
      log_queries_longer_than: 5n * SECOND,
      tail_proxy_url: 'http://querier:3100',
    });
    expect(config.frontend_worker.scheduler_address).toBe('sched:9095');
    expect(config.frontend_worker.grpc_client_config).toMatchObject({ max_send_msg_size: 1000, grpc_compression: 'snappy' });
    expect(config.querier.query_ingesters_within).toBe(120n * MINUTE);
    expect(config.index_gateway.mode).toBe('ring');
    expect(config.storage_config.tsdb_shipper.index_gateway_client.server_address).toBe('dns+gw:9095');
    expect(config.ingester_client).toMatchObject({
      remote_timeout: 10n * SECOND,
      pool_config: { client_cleanup_period: MINUTE, health_check_ingesters: false, remote_timeout: 2n * SECOND },
      grpc_client_config: { grpc_compression: 'gzip' },
    });
  });

  it("reads its durations as Go's time.ParseDuration: a number needs a unit, but for 0", () => {
    expect(
      problems(`${BASE}ingester: {lifecycler: {heartbeat_period: 10, ring: {heartbeat_timeout: "90"}}}\nmemberlist: {left_ingesters_timeout: 1x}\n`),
    ).toEqual([
      'memberlist.left_ingesters_timeout: time: invalid duration "1x" (examples: 30s, 1h30m, 7d)',
      'ingester.lifecycler.ring.heartbeat_timeout: time: missing unit in duration "90" (examples: 30s, 1h30m, 7d)',
      'ingester.lifecycler.heartbeat_period: time: missing unit in duration "10" (examples: 30s, 1h30m, 7d)',
    ]);
    expect(load('ingester: {lifecycler: {join_after: 0, final_sleep: 1m30s}}\n').config.ingester.lifecycler).toMatchObject({
      join_after: 0n,
      final_sleep: 90n * SECOND,
    });
  });

  it('refuses consul, etcd and multi as a ring store with a clear text: only memberlist (or inmemory in one process)', () => {
    const refused = (key: string, store: string) =>
      `${key}: "${store}" is not supported: loki-lite's rings use memberlist (memberlist.join_members), or inmemory for a single process`;
    expect(problems(`${BASE}common: {ring: {kvstore: {store: consul}}}\n`)).toEqual([refused('common.ring.kvstore.store', 'consul')]);
    expect(problems(`${BASE}ingester: {lifecycler: {ring: {kvstore: {store: etcd}}}}\n`)).toEqual([refused('ingester.lifecycler.ring.kvstore.store', 'etcd')]);
    expect(problems(`${BASE}ingester: {lifecycler: {ring: {kvstore: {store: multi}}}}\n`)).toEqual([
      refused('ingester.lifecycler.ring.kvstore.store', 'multi'),
    ]);
    // the consul block itself is Loki's, accepted with the warning that nothing reads it
    expect(warned('ingester: {lifecycler: {ring: {kvstore: {store: memberlist, consul: {host: "consul:8500"}}}}}\n')).toEqual([
      'ingester.lifecycler.ring.kvstore.consul',
    ]);
  });

  it("puts the ingester ring on memberlist when there are members to join, as Loki's applyMemberlistConfig", () => {
    const { config } = load('memberlist: {join_members: [loki-memberlist]}\n');
    expect(config.ingester.lifecycler.ring.kvstore.store).toBe('memberlist');
    expect(config.common.ring.kvstore.store).toBe('memberlist');
    // a store written under the ingester's ring wins
    expect(
      load('memberlist: {join_members: [loki-memberlist]}\ningester: {lifecycler: {ring: {kvstore: {store: inmemory}}}}\n').config.ingester.lifecycler.ring
        .kvstore.store,
    ).toBe('inmemory');
  });

  it('gives the ingester ring what common.ring sets, and a key written under ingester.lifecycler wins, even at its default', () => {
    const { config } = load(
      'common: {ring: {kvstore: {store: memberlist, prefix: rings/}, heartbeat_period: 20s, heartbeat_timeout: 3m, instance_id: ing-1, instance_addr: 10.1.1.1, instance_port: 9999, instance_availability_zone: z1, instance_interface_names: [eth2]}}\n' +
        'ingester: {lifecycler: {heartbeat_period: 5s, address: 10.2.2.2}}\n',
    );
    expect(config.ingester.lifecycler).toMatchObject({
      ring: { kvstore: { store: 'memberlist', prefix: 'rings/' }, heartbeat_timeout: 3n * MINUTE },
      heartbeat_period: 5n * SECOND, // written, equal to the default: it wins over common's 20s
      address: '10.2.2.2',
      id: 'ing-1',
      port: 9999,
      availability_zone: 'z1',
      interface_names: ['eth2'],
    });
  });

  it("takes all of common.ring once any of it is set, defaults included, as Loki does (the ingester's heartbeat becomes 15s)", () => {
    const { config } = load('common: {ring: {instance_id: ing-2}}\n');
    expect(config.ingester.lifecycler).toMatchObject({ id: 'ing-2', heartbeat_period: 15n * SECOND });
    // a written store counts as set even when it is loki-lite's default: Loki's is consul
    expect(load('common: {ring: {kvstore: {store: inmemory}}}\n').config.ingester.lifecycler.heartbeat_period).toBe(15n * SECOND);
    expect(load().config.ingester.lifecycler.heartbeat_period).toBe(5n * SECOND);
  });

  it('uses common.replication_factor for the ingester ring unless the ring says otherwise', () => {
    expect(load('common: {replication_factor: 2}\n').config.ingester.lifecycler.ring.replication_factor).toBe(2);
    expect(
      load('common: {replication_factor: 2}\ningester: {lifecycler: {ring: {replication_factor: 1}}}\n').config.ingester.lifecycler.ring.replication_factor,
    ).toBe(1);
  });

  it('advertises common.instance_addr in the rings, memberlist and the frontend unless each sets its own', () => {
    const { config } = load('common: {instance_addr: 10.0.0.5}\nmemberlist: {advertise_addr: 10.9.9.9}\n');
    expect(config.common.ring.instance_addr).toBe('10.0.0.5');
    expect(config.ingester.lifecycler.address).toBe('10.0.0.5');
    expect(config.frontend.address).toBe('10.0.0.5');
    expect(config.memberlist.advertise_addr).toBe('10.9.9.9');
  });

  it('refuses what Loki refuses: both worker addresses, an unknown gRPC compression or index gateway mode', () => {
    expect(problems(`${BASE}frontend_worker: {frontend_address: "fe:9095", scheduler_address: "sched:9095"}\n`)).toEqual([
      'frontend_worker: frontend address and scheduler address are mutually exclusive, please use only one',
    ]);
    expect(problems(`${BASE}ingester_client: {grpc_client_config: {grpc_compression: lz4}}\n`)).toEqual([
      'ingester_client.grpc_client_config.grpc_compression: unsupported compression type: "lz4"',
    ]);
    expect(problems(`${BASE}index_gateway: {mode: sharded}\n`)).toEqual([
      'index_gateway.mode: mode sharded not supported. list of supported modes: simple (default), ring',
    ]);
    expect(problems(`${BASE}memberlist: {join_members: loki-memberlist}\n`)).toEqual([expect.stringMatching(/^memberlist\.join_members: /)]);
  });
});

describe('-target', () => {
  const TARGETS = ['all', 'write', 'read', 'backend', 'distributor', 'ingester', 'querier', 'query-frontend', 'query-scheduler', 'index-gateway', 'compactor'];

  it("takes Loki's targets, alone or comma-separated", () => {
    for (const target of [...TARGETS, 'distributor,ingester', 'read, backend']) expect(load(`target: "${target}"\n`).config.target).toBe(target);
  });

  it('says ruler and pattern-ingester are not implemented yet, naming them', () => {
    const list = `(loki-lite's targets: ${TARGETS.join(', ')})`;
    expect(problems(`${BASE}target: ruler\n`)).toEqual([`target: ruler is not implemented yet ${list}`]);
    expect(problems(`${BASE}target: "all,pattern-ingester"\n`)).toEqual([`target: pattern-ingester is not implemented yet ${list}`]);
  });

  it("answers any other name with dskit's text", () => {
    expect(problems(`${BASE}target: "querier,frontend"\n`)).toEqual([
      `target: unrecognised module name: frontend (loki-lite's targets: ${TARGETS.join(', ')})`,
    ]);
  });
});
