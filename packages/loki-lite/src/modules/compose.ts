import { availableParallelism } from 'node:os';
import { ConfigError, type LevelControl, type Logger } from '@loki-lite/shared';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { Compactor } from '../compactor/compactor.js';
import { CompactorDeletes } from '../compactor/deletes.js';
import { Distributor } from '../distributor/distributor.js';
import { Ingester } from '../ingester/ingester.js';
import { Metrics } from '../metrics.js';
import { Admission } from '../frontend/admission.js';
import { WorkerPool } from '../shard/pool/worker-pool.js';
import { MetadataQuerier } from '../querier/metadata.js';
import { Querier } from '../querier/querier.js';
import { QueryEngine } from '../frontend/query-engine.js';
import { InProcessShards } from '../shard/runner.js';
import type { ShardExecution } from '../shard/selection.js';
import { queryLogFields } from '../frontend/query-log.js';
import { createApp } from '../server/app.js';
import { DeleteFilterCache } from '../deletion/query-filters.js';
import { DeleteRequestStore } from '../deletion/store.js';
import { registerDeleteRoutes } from '../server/delete-routes.js';
import { registerDetectedRoutes } from '../server/detected-routes.js';
import { toHttpError } from '../server/http-errors.js';
import { registerMetadataRoutes } from '../server/metadata-routes.js';
import { registerFlushRoutes, registerOpsRoutes } from '../server/ops-routes.js';
import { registerPushRoutes } from '../server/push-routes.js';
import { registerQueryRoutes } from '../server/query-routes.js';
import { registerTailRoutes } from '../server/tail-routes.js';
import { indexPeriodsFromConfig, objectStoreFromConfig } from '../storage/from-config.js';
import { Limits } from '../limits/limits.js';
import { runtimeConfigSource, runtimeConfigYaml } from '../limits/runtime-config.js';
import { RuntimeConfigReloader } from '../limits/runtime-config-reloader.js';
import type { Ticker } from '../util/ticker.js';
import { LogStore } from '../storage/log-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { type Service, ServiceGroup } from './service.js';
import { type ModuleName, modulesOf } from './targets.js';

/** What the process needs beyond its config. */
export interface ComposeOptions {
  readonly log: Logger & Partial<LevelControl>;
  readonly version: string;
  /** Overrides the object store the config names (tests). */
  readonly objectStore?: ObjectStore;
  /** What runs the runtime config's reload every runtime_config.period (tests tick it by hand). */
  readonly runtimeConfigTicker?: Ticker;
}

/** The modules of one process, built and wired, not started yet. */
export interface Composition {
  readonly app: FastifyInstance;
  readonly services: ServiceGroup;
  readonly store: LogStore;
  /** Present when the target runs the module. */
  readonly ingester: Ingester | undefined;
  readonly admission: Admission | undefined;
}

/** Modules built so far: each module's builder reads the ones it depends on. */
interface Built {
  /** Every role asks this one object for a tenant's limits (Loki's overrides module). */
  readonly limits: Limits;
  store?: LogStore;
  /** Delete requests, in the store's objects (compactor.delete_request_store names it in Loki). */
  deleteRequests?: DeleteRequestStore;
  /** Where queries run their shards: the ingester's over its memory, and the querier's over the store. */
  queryShards?: ShardExecution;
  ingester?: Ingester;
  querier?: Querier;
  metadata?: MetadataQuerier;
  admission?: Admission;
}

/**
 * Builds the modules of config.target, each after those it depends on; each registers its own routes. The
 * HTTP server starts last and stops first: no request reaches a module that is still starting (an ingester
 * replaying its WAL), and none arrives while one stops.
 */
export function compose(config: Config, opts: ComposeOptions): Composition {
  const { modules, unknown } = modulesOf(config.target);
  // Until distributed mode gives the seams a network, a distributor pushes to its own process's ingester and
  // a querier reads it: only a target with every module of `all` can start.
  if (unknown.length > 0 || modules.length !== modulesOf('all').modules.length) {
    throw new ConfigError([`target: ${config.target} is not implemented yet; loki-lite runs -target=all`]);
  }
  const { log, version } = opts;
  const metrics = new Metrics(version);
  const app = createApp({ config, log, metrics });
  const built: Built = { limits: new Limits(config.limits_config) };
  // Loki's runtime-config module: before every module that asks limits, so they start with the overrides.
  const services: Service[] = runtimeConfigServices(config, opts, metrics, built.limits);
  for (const name of modules) services.push(BUILDERS[name]({ config, opts, metrics, app, built }));
  const listener = services.find((s) => s.name === 'server')!;
  const group = new ServiceGroup([...services.filter((s) => s !== listener), listener]);
  const logLevel = log.setLevel && log.level !== undefined ? (log as Logger & LevelControl) : undefined;
  const notReady = () => (group.running ? undefined : 'Ingester not ready: replaying the WAL');
  const runtimeConfig = (mode: 'all' | 'diff') => (runtimeConfigSource(config).files === '' ? undefined : runtimeConfigYaml(built.limits, mode));
  registerOpsRoutes(app, { config, services: () => group.list(), metrics, logLevel, version, notReady, runtimeConfig });
  return { app, services: group, store: built.store!, ingester: built.ingester, admission: built.admission };
}

interface BuildContext {
  readonly config: Config;
  readonly opts: ComposeOptions;
  readonly metrics: Metrics;
  readonly app: FastifyInstance;
  readonly built: Built;
}

/** How each module is built from its config and the modules it depends on; it answers its lifecycle. */
const BUILDERS: Readonly<Record<ModuleName, (ctx: BuildContext) => Service>> = {
  server: ({ config, app }) => ({
    name: 'server',
    async start() {
      const host = config.server.http_listen_address || '0.0.0.0';
      await app.listen({ host, port: config.server.http_listen_port });
    },
    stop: () => app.close(),
  }),

  store: ({ config, opts, metrics, built }) => {
    const observeS3 = (operation: string, status: string, seconds: number) => metrics.s3RequestDuration.observe({ operation, status_code: status }, seconds);
    built.store = new LogStore(opts.objectStore ?? objectStoreFromConfig(config, observeS3), indexPeriodsFromConfig(config), {
      onForeignIndexFile: (key, reason) => {
        metrics.foreignIndexFiles.inc();
        opts.log.warn(`index: skipping ${key}, which is not a loki-lite index file (${reason}); queries read the table's other files`);
      },
    });
    built.deleteRequests = new DeleteRequestStore(built.store.objects);
    return { name: 'store' };
  },

  ingester: ({ config, opts, metrics, app, built }) => {
    const queryShards = (built.queryShards = queryShardsOf(config, built.store!, opts.log));
    const ingester = new Ingester({
      queryShards,
      config: config.ingester,
      limits: built.limits,
      store: built.store!,
      metrics,
      log: opts.log,
      logDuplicateMetrics: config.operational_config.log_duplicate_metrics,
    });
    built.ingester = ingester;
    registerFlushRoutes(app, () => ingester.flushAll());
    const stop = async () => {
      try {
        await ingester.stop();
      } finally {
        await queryShards.runner.close();
      }
    };
    return { name: 'ingester', start: () => ingester.start(), stop };
  },

  distributor: ({ config, opts, metrics, app, built }) => {
    const distributor = new Distributor({ limits: built.limits, sink: built.ingester!, metrics, log: opts.log });
    registerPushRoutes(app, config, distributor, opts.log);
    return { name: 'distributor' };
  },

  querier: ({ config, app, built }) => {
    // Loki's querier hides the lines of delete requests only with retention enabled (else its delete
    // requests client is a no-op), as the compactor serves the delete API only then.
    const deletes = config.compactor.retention_enabled
      ? { deletes: new DeleteFilterCache(built.deleteRequests!, { modeOf: (t) => built.limits.forTenant(t).deletion_mode }) }
      : {};
    const querier = new Querier(built.ingester!, built.store!, {
      discoverLogLevels: (tenant) => built.limits.forTenant(tenant).discover_log_levels,
      shards: built.queryShards!.runner,
      shardsPerQuery: built.queryShards!.shardsPerQuery,
      ...deletes,
    });
    const metadata = new MetadataQuerier(built.ingester!, built.store!);
    built.querier = querier;
    built.metadata = metadata;
    registerTailRoutes(app, config, querier, built.limits);
    registerMetadataRoutes(app, config, metadata);
    return { name: 'querier' };
  },

  'query-frontend': ({ config, opts, metrics, app, built }) => {
    const admission = new Admission(
      { maxConcurrent: config.querier.max_concurrent, maxOutstandingPerTenant: config.query_scheduler.max_outstanding_requests_per_tenant },
      {
        queueLength: (tenant, n) => metrics.queryQueueLength.set({ user: tenant }, n),
        discarded: (tenant) => metrics.queryDiscardedRequests.inc({ user: tenant }),
      },
    );
    const logQuery = (record: Parameters<typeof queryLogFields>[0]) =>
      opts.log.fields('info', queryLogFields(record, record.error === undefined ? 200 : toHttpError(record.error).status));
    const engine = new QueryEngine(built.querier!, admission, config, built.limits, logQuery);
    built.admission = admission;
    registerQueryRoutes(app, config, engine);
    registerDetectedRoutes(app, config, built.metadata!, engine);
    return { name: 'query-frontend' };
  },

  compactor: ({ config, opts, metrics, app, built }) => {
    const deletes = config.compactor.retention_enabled ? compactorDeletes(config, opts, metrics, app, built) : {};
    const compactor = new Compactor({ config: config.compactor, store: built.store!, limits: built.limits, metrics, log: opts.log, ...deletes });
    return { name: 'compactor', start: async () => compactor.start(), stop: () => compactor.stop() };
  },
};

/**
 * Loki's initCompactor with retention enabled: the delete API's routes, and the deletes each retention run
 * carries out (compactor/deletes.ts). Without retention Loki registers neither, and the routes answer 404.
 */
function compactorDeletes(config: Config, opts: ComposeOptions, metrics: Metrics, app: FastifyInstance, built: Built): { deletes: CompactorDeletes } {
  const requests = built.deleteRequests!;
  registerDeleteRoutes(app, config, {
    store: requests,
    limits: built.limits,
    log: opts.log,
    received: (tenant) => metrics.deleteRequestsReceived.inc({ user: tenant }),
  });
  const deletes = new CompactorDeletes({
    requests,
    store: built.store!,
    modeOf: (t) => built.limits.forTenant(t).deletion_mode,
    retention: built.limits,
    cancelPeriod: config.compactor.delete_request_cancel_period,
    batchSize: config.compactor.delete_batch_size,
    metrics,
    log: opts.log,
  });
  return { deletes };
}

/** The runtime config reloader when runtime_config.file names files (Loki runs the module only then). */
function runtimeConfigServices(config: Config, opts: ComposeOptions, metrics: Metrics, limits: Limits): Service[] {
  const source = runtimeConfigSource(config);
  if (source.files === '') return [];
  const ticker = opts.runtimeConfigTicker ? { ticker: opts.runtimeConfigTicker } : {};
  return [new RuntimeConfigReloader({ ...source, limits, metrics, log: opts.log, ...ticker })];
}

/**
 * Where query shards run: querier.worker_threads threads (min(max_concurrent, cores) by default), or this
 * thread. One pool serves the ingester's and the querier's shards of a process, so that a query's memory
 * and store parts share its threads.
 */
function queryShardsOf(config: Config, store: LogStore, log: Logger): ShardExecution {
  const { max_concurrent: maxConcurrent, worker_threads: configured, shards_per_query: perQuery } = config.querier;
  const threads = configured ?? Math.min(maxConcurrent, availableParallelism());
  if (threads === 0) return { runner: new InProcessShards(store), shardsPerQuery: perQuery || 1 };
  return { runner: new WorkerPool(store, threads, (message) => log.warn(message)), shardsPerQuery: perQuery || 2 * threads };
}
