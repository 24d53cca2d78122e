import { hostname } from 'node:os';
import { z } from 'zod';
import { byteSize, csvList, dayTime, duration, formatPromDuration, port } from '@loki-lite/shared';
import { parseMatchers } from '../logql/syntax/parser.js';

/*
 * The loki-lite configuration: Loki's own YAML keys and Loki's defaults. This schema is the single source of
 * the TypeScript type, the defaults and the validation. Objects are strict: an unknown key is an error.
 * Keys Loki has that loki-lite accepts but does not act on yet are listed in known-keys.ts.
 */

const s3Config = z.strictObject({
  region: z.string().default(''),
  bucketnames: z.string().default(''),
  endpoint: z.string().default(''),
  s3forcepathstyle: z.boolean().default(false),
  access_key_id: z.string().default(''),
  secret_access_key: z.string().default(''),
  session_token: z.string().default(''),
  insecure: z.boolean().default(false),
});

const filesystemConfig = z.strictObject({
  directory: z.string().default(''),
});

const periodConfig = z.strictObject({
  from: dayTime,
  store: z.enum(['tsdb']),
  object_store: z.enum(['s3', 'aws', 'filesystem', 'inmemory']),
  schema: z.enum(['v12', 'v13']),
  index: z.strictObject({
    prefix: z.string().default('index_'),
    period: duration.refine((d) => d === 24n * 3600n * 1_000_000_000n, 'the tsdb index period must be 24h'),
  }),
});

const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const HOUR = 3600n * 1_000_000_000n;

/*
 * Distributed mode (issue 16): the keys below are Loki's, with its defaults, for the ring, memberlist, the
 * query-frontend and -scheduler seams and the gRPC clients between roles. Issue 16's wiring acts on them; a
 * single process (-target=all) has no ring and no gRPC peers, so there they change nothing, as
 * limits_config.ingestion_rate_strategy does not. What a single process would wrongly seem to honour (TLS,
 * zone awareness, consul and etcd) stays in known-keys.ts and warns.
 */

/**
 * A ring's key-value store. Loki's default is consul, which loki-lite does not have: left unset, a ring is
 * kept in memory (one process, as Loki's `inmemory`), or on memberlist when memberlist.join_members is set,
 * as Loki's config_wrapper.go does (config/common-ring.ts).
 */
const kvStoreName = z
  .string()
  .refine((v) => v === 'memberlist' || v === 'inmemory', {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not supported: loki-lite's rings use memberlist (memberlist.join_members), or inmemory for a single process`,
  })
  .transform((v) => v as 'memberlist' | 'inmemory');

const kvStore = z.strictObject({ store: kvStoreName.default('inmemory'), prefix: z.string().default('collectors/') }).prefault({});

/** Go's []string of a flagext.StringSlice: a YAML list. */
const stringList = z.array(z.string());

/** dskit's backoff.Config. */
const backoffConfig = z
  .strictObject({
    min_period: duration.default(100_000_000n),
    max_period: duration.default(10n * SECOND),
    max_retries: z.number().int().default(10),
  })
  .prefault({});

/** dskit's grpcclient.Config, less its TLS keys (known-keys.ts): a client from one role to another. */
const grpcClientConfig = z
  .strictObject({
    max_recv_msg_size: z
      .number()
      .int()
      .default(100 * 1024 * 1024),
    max_send_msg_size: z
      .number()
      .int()
      .default(100 * 1024 * 1024),
    grpc_compression: z
      .string()
      .refine((v) => v === '' || v === 'gzip' || v === 'snappy', { error: (issue) => `unsupported compression type: ${JSON.stringify(issue.input)}` })
      .default(''),
    rate_limit: z.number().min(0).default(0),
    rate_limit_burst: z.number().int().min(0).default(0),
    backoff_on_ratelimits: z.boolean().default(false),
    backoff_config: backoffConfig,
    initial_stream_window_size: byteSize.default(65_535),
    initial_connection_window_size: byteSize.default(65_535),
    connect_timeout: duration.default(5n * SECOND),
    connect_backoff_base_delay: duration.default(SECOND),
    connect_backoff_max_delay: duration.default(5n * SECOND),
    cluster_validation: z.strictObject({ label: z.string().default('') }).prefault({}),
  })
  .prefault({});
export type GrpcClientConfig = z.output<typeof grpcClientConfig>;

/** Loki's common.ring (pkg/util/ring RingConfig): what every ring takes unless its own section says otherwise. */
const commonRing = z
  .strictObject({
    kvstore: kvStore,
    heartbeat_period: duration.default(15n * SECOND),
    heartbeat_timeout: duration.default(MINUTE),
    instance_id: z.string().default(() => hostname()),
    // [] stands for Loki's default, the private network interfaces (eth0, en0) and the loopback one.
    instance_interface_names: stringList.default([]),
    // 0: server.grpc_listen_port.
    instance_port: port.default(0),
    instance_addr: z.string().default(''),
    instance_availability_zone: z.string().default(''),
  })
  .prefault({});
export type CommonRingConfig = z.output<typeof commonRing>;

/** dskit's LifecyclerConfig as Loki's ingester registers it (ingester.lifecycler). */
const lifecycler = z
  .strictObject({
    ring: z
      .strictObject({
        kvstore: kvStore,
        heartbeat_timeout: duration.default(MINUTE),
        // common.replication_factor when not set (config/common-ring.ts)
        replication_factor: z.number().int().min(1).default(3),
      })
      .prefault({}),
    num_tokens: z.number().int().min(1).default(128),
    heartbeat_period: duration.default(5n * SECOND),
    heartbeat_timeout: duration.default(MINUTE),
    observe_period: duration.default(0n),
    join_after: duration.default(0n),
    min_ready_duration: duration.default(15n * SECOND),
    // [] stands for Loki's default, the private network interfaces (eth0, en0) and the loopback one.
    interface_names: stringList.default([]),
    // dskit's default is 30s; Loki's applyIngesterFinalSleep makes it 0.
    final_sleep: duration.default(0n),
    availability_zone: z.string().default(''),
    unregister_on_shutdown: z.boolean().default(true),
    readiness_check_ring_health: z.boolean().default(true),
    address: z.string().default(''),
    // 0: server.grpc_listen_port.
    port: port.default(0),
    // Loki's YAML key is `id` (the Go field ID, flag -ingester.lifecycler.ID); its default the host name.
    id: z.string().default(() => hostname()),
  })
  .prefault({});
export type LifecyclerConfig = z.output<typeof lifecycler>;

/**
 * One `limits_config.retention_stream` rule, as Loki's Limits.Validate checks it: the selector is label
 * matchers only, and the period at least 24h (Loki's texts). Only the compactor reads it.
 */
const streamRetention = z
  .strictObject({
    selector: z.string(),
    priority: z.number().int().default(0),
    period: duration,
  })
  .superRefine((rule, ctx) => {
    try {
      parseMatchers(rule.selector);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['selector'], message: `invalid labels matchers: ${(e as Error).message}` });
    }
    if (rule.period < 24n * HOUR) {
      ctx.addIssue({ code: 'custom', path: ['period'], message: `retention period must be >= 24h was ${formatPromDuration(rule.period)}` });
    }
  });
export type StreamRetention = z.output<typeof streamRetention>;

export const configSchema = z.strictObject({
  target: z.string().default('all'),
  auth_enabled: z.boolean().default(true),
  server: z
    .strictObject({
      http_listen_address: z.string().default(''),
      http_listen_port: port.default(3100),
      log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      log_format: z.enum(['logfmt', 'json']).default('logfmt'),
      // Every request's `GET /path (200) 1.2ms` line at info rather than debug.
      log_request_at_info_level_enabled: z.boolean().default(false),
      // Loki's base path for every HTTP route (`/loki-prefix` serves `/loki-prefix/loki/api/v1/push`).
      http_path_prefix: z.string().default(''),
      // The port and address roles talk to each other on (issue 16); nothing listens there yet.
      grpc_listen_port: port.default(9095),
      grpc_listen_address: z.string().default(''),
    })
    .prefault({}),
  common: z
    .strictObject({
      path_prefix: z.string().default(''),
      storage: z
        .strictObject({
          s3: s3Config.optional(),
          filesystem: z.strictObject({ chunks_directory: z.string().default(''), rules_directory: z.string().default('') }).optional(),
        })
        .prefault({}),
      // How many ingesters each stream is written to (the ingester ring's, unless it sets its own).
      replication_factor: z.number().int().min(1).default(3),
      ring: commonRing,
      // The address every role advertises (rings, memberlist, the frontend) unless its own section says otherwise.
      instance_addr: z.string().default(''),
      // Where the compactor's HTTP API (the delete requests) and gRPC service are, for the other roles.
      compactor_address: z.string().default(''),
      compactor_grpc_address: z.string().default(''),
    })
    .prefault({}),
  // Loki's gossip ring store (dskit kv/memberlist). Issue 16's ring does not gossip (ring/README.md there):
  // members are found by resolving join_members again and again, and each serves its own ring entry on its port.
  memberlist: z
    .strictObject({
      // DNS names (dns+, dnssrv+, dnssrvnoa+ prefixes) or host:port entries.
      join_members: stringList.default([]),
      // [] listens on every address (0.0.0.0).
      bind_addr: stringList.default([]),
      bind_port: port.default(7946),
      advertise_addr: z.string().default(''),
      advertise_port: port.default(7946),
      dead_node_reclaim_time: duration.default(0n),
      abort_if_cluster_join_fails: z.boolean().default(false),
      rejoin_interval: duration.default(0n),
      left_ingesters_timeout: duration.default(5n * MINUTE),
    })
    .prefault({}),
  schema_config: z.strictObject({ configs: z.array(periodConfig).default([]) }).prefault({}),
  storage_config: z
    .strictObject({
      aws: s3Config.optional(),
      filesystem: filesystemConfig.optional(),
      tsdb_shipper: z
        .strictObject({
          index_gateway_client: z
            .strictObject({
              // Where queriers ask for index lookups instead of reading index files (issue 16); '' reads them.
              server_address: z.string().default(''),
            })
            .prefault({}),
        })
        .prefault({}),
    })
    .prefault({}),
  distributor: z
    .strictObject({
      // The push decoder keeps line offsets in 32-bit columns.
      max_recv_msg_size: byteSize.refine((n) => n < 2 ** 31, 'must be below 2GiB').default(100 * 1024 * 1024),
    })
    .prefault({}),
  ingester: z
    .strictObject({
      // The ingester's place in the ring: common.ring fills what it leaves unset (config/common-ring.ts).
      lifecycler,
      chunk_encoding: z.enum(['none', 'gzip', 'snappy']).default('gzip'),
      chunk_target_size: byteSize.default(1_572_864),
      chunk_block_size: byteSize.default(262_144),
      max_chunk_age: duration.default(2n * 3600n * 1_000_000_000n),
      chunk_idle_period: duration.default(30n * 60n * 1_000_000_000n),
      flush_check_period: duration.default(30_000_000_000n),
      flush_op_timeout: duration.default(600_000_000_000n),
      max_returned_stream_errors: z.number().int().min(0).default(10),
      // Loki gives up after max_retries and drops the chunk; loki-lite keeps retrying (never loses data).
      flush_op_backoff: z
        .strictObject({
          min_period: duration.default(10_000_000_000n),
          max_period: duration.default(60_000_000_000n),
        })
        .prefault({}),
      index_cut_period: duration.default(15n * 60n * 1_000_000_000n),
      // How long a chunk stays in memory, still answered from there, once an index file lists it: covers
      // readers whose listing of a table's index files is older than the file. Loki's default is 0.
      chunk_retain_period: duration.default(0n),
      // loki-lite only: uncompressed head blocks of all streams together stay under this; past it the
      // largest heads are compressed early. Bounds memory however many streams are active.
      head_memory_limit: byteSize.default(32 * 1024 * 1024),
      wal: z
        .strictObject({
          enabled: z.boolean().default(true),
          dir: z.string().default(''),
          checkpoint_duration: duration.default(5n * 60n * 1_000_000_000n),
          flush_on_shutdown: z.boolean().default(true),
          // loki-lite only: below this much free space on the WAL's disk, pushes are refused (503) until
          // space is back, instead of WAL writes failing halfway; it also leaves room for a checkpoint,
          // which is what lets old segments go. 0 turns the check off.
          min_free_disk_space: byteSize.default(64 * 1024 * 1024),
        })
        .prefault({}),
    })
    .prefault({}),
  limits_config: z
    .strictObject({
      // One distributor: the global limit shared among distributors and the local one are the same here.
      ingestion_rate_strategy: z.enum(['global', 'local']).default('global'),
      ingestion_rate_mb: z.number().min(0).default(4),
      ingestion_burst_size_mb: z.number().min(0).default(6),
      max_line_size: byteSize.default(256 * 1024),
      max_line_size_truncate: z.boolean().default(false),
      max_label_name_length: z.number().int().min(1).default(1024),
      max_label_value_length: z.number().int().min(1).default(2048),
      max_label_names_per_series: z.number().int().min(1).default(15),
      reject_old_samples: z.boolean().default(true),
      reject_old_samples_max_age: duration.default(7n * 24n * 3600n * 1_000_000_000n),
      creation_grace_period: duration.default(10n * 60n * 1_000_000_000n),
      per_stream_rate_limit: byteSize.default(3 * 1024 * 1024),
      per_stream_rate_limit_burst: byteSize.default(15 * 1024 * 1024),
      allow_structured_metadata: z.boolean().default(true),
      max_structured_metadata_size: byteSize.default(64 * 1024),
      max_structured_metadata_entries_count: z.number().int().min(0).default(128),
      max_global_streams_per_user: z.number().int().min(0).default(5000),
      max_streams_per_user: z.number().int().min(0).default(0),
      max_entries_limit_per_query: z.number().int().min(0).default(5000),
      max_concurrent_tail_requests: z.number().int().min(0).default(10),
      max_query_series: z.number().int().min(0).default(500),
      max_query_length: duration.default(721n * 3600n * 1_000_000_000n),
      // Log queries are answered split by this interval and merged as Loki's query frontend does, which
      // decides which lines a limit keeps when several series compete. 30m is Loki 2.8's default (the
      // answers recorded in ../shared/compat); Loki 3 uses 1h. 0 disables the split.
      split_queries_by_interval: duration.default(30n * 60n * 1_000_000_000n),
      query_timeout: duration.default(60_000_000_000n),
      // Deprecated in Loki for runtime_config.file and .period, which they stand in for when that file is unset.
      per_tenant_override_config: z.string().default(''),
      per_tenant_override_period: duration.default(10_000_000_000n),
      discover_service_name: csvList.default([
        'service',
        'app',
        'application',
        'app_name',
        'name',
        'app_kubernetes_io_name',
        'container',
        'container_name',
        'k8s_container_name',
        'component',
        'workload',
        'job',
        'k8s_job_name',
      ]),
      discover_log_levels: z.boolean().default(true),
      // Who may use the delete API and what a delete request does: filter-only hides matching lines from
      // queries, filter-and-delete also has the compactor remove them from storage (deletion/README.md).
      deletion_mode: z
        .enum(['disabled', 'filter-only', 'filter-and-delete'], { error: 'unknown deletion mode: must be one of disabled|filter-only|filter-and-delete' })
        .default('filter-and-delete'),
      // How long stored data is kept once compactor.retention_enabled is on; 0 keeps it for ever (Loki 2.8+).
      retention_period: duration.default(0n),
      // Per-stream retention rules: the matching rule of highest priority (on a tie the shortest period)
      // wins over retention_period (compactor/retention/expiration.ts).
      retention_stream: z.array(streamRetention).default([]),
    })
    .prefault({}),
  querier: z
    .strictObject({
      // Queries this process runs at once; the others wait in the per-tenant queues (frontend/admission.ts).
      // 4 is current Loki's default (pkg/querier/querier.go, Loki 3.x; it was 10 in Loki 2.x).
      max_concurrent: z.number().int().min(1).default(4),
      // Queries for several tenants at once (X-Scope-OrgID: a|b), each stream labelled __tenant_id__.
      multi_tenant_queries_enabled: z.boolean().default(false),
      // Queries reach back into the ingesters' memory only this far; older data is read from the store alone
      // (issue 16: a single process reads its own ingester whatever the range). 0 asks the ingesters always.
      query_ingesters_within: duration.default(3n * HOUR),
      engine: z
        .strictObject({
          // How far before its time a log query over an instant (start equal to end) reads, as Loki's
          // evaluator does for instant log queries.
          max_look_back_period: duration.default(30_000_000_000n),
        })
        .prefault({}),
      // loki-lite: the threads that run query shards, min(max_concurrent, cores) by default; 0 runs them
      // on the server's own thread (between pushes), as a test or a tiny machine may want.
      worker_threads: z.number().int().min(0).optional(),
      // loki-lite: how many shards a query is cut into (stream groups, then time ranges); 0 gives two per
      // worker thread, so a slow shard does not leave a core idle.
      shards_per_query: z.number().int().min(0).default(0),
    })
    .prefault({}),
  query_scheduler: z
    .strictObject({
      // Queries one tenant may have waiting for a slot; one more is refused with 429 "too many outstanding
      // requests". Loki 3.x's default is 32000 (it was 100 in Loki 2.x's pkg/scheduler/scheduler.go).
      max_outstanding_requests_per_tenant: z.number().int().min(0).default(32000),
    })
    .prefault({}),
  // The query-frontend role's seams (issue 16). In one process the admission queues are bounded by
  // query_scheduler.max_outstanding_requests_per_tenant, as Loki's single binary runs a query-scheduler;
  // max_outstanding_per_tenant bounds the queue of a frontend without schedulers (Loki's frontend v1).
  frontend: z
    .strictObject({
      // The query-schedulers to enqueue sub-queries in; '' keeps them in the frontend.
      scheduler_address: z.string().default(''),
      // The address queriers send answers back to (Loki's hidden frontend.address); '' resolves an interface's.
      address: z.string().default(''),
      max_outstanding_per_tenant: z.number().int().min(0).default(2048),
      compress_responses: z.boolean().default(true),
      // A query slower than this is logged (0 never, below 0 always).
      log_queries_longer_than: duration.default(0n),
      // The queriers live tails are proxied to.
      tail_proxy_url: z.string().default(''),
    })
    .prefault({}),
  // The querier's workers that pull sub-queries from a query-scheduler or a query-frontend (issue 16).
  frontend_worker: z
    .strictObject({
      scheduler_address: z.string().default(''),
      frontend_address: z.string().default(''),
      grpc_client_config: grpcClientConfig,
    })
    .prefault({}),
  // The index gateway role (issue 16).
  index_gateway: z
    .strictObject({
      // simple: each gateway answers for every tenant; ring: a tenant's lookups go to its gateways in the ring.
      // Loki's text for a mode its flag refuses (its YAML reads any other as simple).
      mode: z
        .enum(['simple', 'ring'], { error: (issue) => `mode ${String(issue.input)} not supported. list of supported modes: simple (default), ring` })
        .default('simple'),
    })
    .prefault({}),
  // How distributors and queriers reach the ingesters (issue 16).
  ingester_client: z
    .strictObject({
      pool_config: z
        .strictObject({
          client_cleanup_period: duration.default(15n * SECOND),
          health_check_ingesters: z.boolean().default(true),
          // The health check's timeout.
          remote_timeout: duration.default(SECOND),
        })
        .prefault({}),
      // Each push or query call's deadline.
      remote_timeout: duration.default(5n * SECOND),
      grpc_client_config: grpcClientConfig,
    })
    .prefault({}),
  query_range: z
    .strictObject({
      // Loki's StepAlignMiddleware: a metric range query's start and end are rounded down to a multiple of
      // its step before anything else (off by default, as in Loki). See frontend/step-align.ts.
      align_queries_with_step: z.boolean().default(false),
    })
    .prefault({}),
  // Per-tenant overrides of limits_config, reloaded while the process runs (limits/runtime-config.ts).
  runtime_config: z
    .strictObject({
      // Loki's -runtime-config.file: a comma-separated list of YAML files, merged from left to right.
      file: z.string().default(''),
      period: duration.default(10_000_000_000n),
    })
    .prefault({}),
  // Loki's compactor (pkg/compactor/config.go): index compaction and retention. The delete_* keys belong
  // to the delete API.
  compactor: z
    .strictObject({
      // Where retention keeps its marker files. Loki's default; under common.path_prefix it is
      // <path_prefix>/compactor (config/load.ts).
      working_directory: z.string().default('/var/loki/compactor'),
      compaction_interval: duration.default(10n * 60n * 1_000_000_000n),
      // 0 runs retention as often as compaction (plus Loki's jitter, config/load.ts).
      apply_retention_interval: duration.default(0n),
      retention_enabled: z.boolean().default(false),
      retention_delete_delay: duration.default(2n * HOUR),
      retention_delete_worker_count: z.number().int().default(150),
      delete_request_store: z.string().default(''),
      delete_batch_size: z.number().int().default(70),
      delete_request_cancel_period: duration.default(24n * HOUR),
      delete_max_interval: duration.default(24n * HOUR),
      // Tables compacted at once.
      max_compaction_parallelism: z.number().int().default(1),
      // Compact only the N newest tables (0: all), leaving out the N latest (0: none).
      tables_to_compact: z.number().int().min(0).default(0),
      skip_latest_n_tables: z.number().int().min(0).default(0),
    })
    .prefault({}),
  operational_config: z
    .strictObject({
      // Count the bytes of lines dropped as duplicates in loki_ingester_duplicate_log_bytes_total.
      log_duplicate_metrics: z.boolean().default(false),
    })
    .prefault({}),
});

/** limits_config: the defaults of every tenant, and what a tenant's runtime overrides are validated with. */
export const limitsConfigSchema = configSchema.shape.limits_config;

/** The validated configuration, frozen. Durations are bigint nanoseconds, sizes numbers of bytes. */
export type Config = z.output<typeof configSchema>;
export type S3Config = z.output<typeof s3Config>;
export type PeriodConfig = z.output<typeof periodConfig>;
export type LimitsConfig = Config['limits_config'];
export type IngesterConfig = Config['ingester'];
export type DeletionMode = LimitsConfig['deletion_mode'];
export type CompactorConfig = Config['compactor'];
export type MemberlistConfig = Config['memberlist'];
