import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { closeOnSignals, ConfigError, exitWith, FlagError, StartupError, versionText } from '@loki-lite/shared';
import { parseFlags, usage } from './config/flags.js';
import { configYaml } from './config/print.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { Distributor } from './distributor/distributor.js';
import { Ingester } from './ingester/ingester.js';
import { Metrics } from './metrics.js';
import { Admission } from './querier/admission.js';
import { Querier, type ShardRunner } from './querier/querier.js';
import { QueryEngine } from './querier/query-engine.js';
import { queryLogFields } from './querier/query-log.js';
import { toHttpError } from './server/http-errors.js';
import { WorkerPool } from './querier/pool/worker-pool.js';
import { createApp } from './server/app.js';
import { registerMetadataRoutes } from './server/metadata-routes.js';
import { registerOpsRoutes } from './server/ops-routes.js';
import { registerPushRoutes } from './server/push-routes.js';
import { registerQueryRoutes } from './server/query-routes.js';
import { registerTailRoutes } from './server/tail-routes.js';
import { registerDetectedRoutes } from './server/detected-routes.js';
import { indexPeriodsFromConfig, objectStoreFromConfig } from './storage/from-config.js';
import { LogStore } from './storage/log-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { type LevelControl, type Logger, stderrLogger } from '@loki-lite/shared';

export { parseConfig } from './config/load.js';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface RunningServer {
  /** e.g. http://127.0.0.1:3100 */
  readonly url: string;
  readonly port: number;
  readonly ingester: Ingester;
  /** The process's one admission control for queries (tests look at its queue). */
  readonly admission: Admission;
  /** Stops accepting requests, flushes (wal.flush_on_shutdown) and closes the WAL. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** The process's logger; one that can change its level (stderrLogger) also serves /log_level. */
  readonly log?: Logger & Partial<LevelControl>;
  /** Overrides the object store the config names (tests). */
  readonly objectStore?: ObjectStore;
}

/** Wires the roles of -target=all and starts listening. */
export async function startLokiLite(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  if (config.target !== 'all') throw new ConfigError([`target: ${config.target} is not implemented yet; loki-lite runs -target=all`]);
  const log = opts.log ?? stderrLogger(config.server.log_level, config.server.log_format);
  const logLevel = log.setLevel && log.level !== undefined ? (log as Logger & LevelControl) : undefined;
  const metrics = new Metrics(VERSION);
  const store = new LogStore(opts.objectStore ?? objectStoreFromConfig(config), indexPeriodsFromConfig(config), {
    onForeignIndexFile: (key, reason) => {
      metrics.foreignIndexFiles.inc();
      log.warn(`index: skipping ${key}, which is not a loki-lite index file (${reason}); queries read the table's other files`);
    },
  });
  const ingester = new Ingester({
    config: config.ingester, limits: config.limits_config, store, metrics, log, logDuplicateMetrics: config.operational_config.log_duplicate_metrics,
  });
  const distributor = new Distributor({ limits: config.limits_config, sink: ingester, metrics });
  const querier = new Querier(ingester, store, { discoverLogLevels: config.limits_config.discover_log_levels, ...queryShards(config, store, log) });
  const admission = new Admission(
    { maxConcurrent: config.querier.max_concurrent, maxOutstandingPerTenant: config.query_scheduler.max_outstanding_requests_per_tenant },
    { queueLength: (tenant, n) => metrics.queryQueueLength.set({ user: tenant }, n), discarded: (tenant) => metrics.queryDiscardedRequests.inc({ user: tenant }) },
  );
  const engine = new QueryEngine(querier, admission, config, (record) => log.fields('info', queryLogFields(record, record.error === undefined ? 200 : toHttpError(record.error).status)));

  let ready = false;
  const app = createApp({ config, log, metrics });
  registerPushRoutes(app, config, distributor, log);
  registerQueryRoutes(app, config, engine);
  registerTailRoutes(app, config, querier);
  registerDetectedRoutes(app, config, querier, engine);
  registerMetadataRoutes(app, config, querier);
  const services = () => ['server', 'distributor', 'ingester', 'querier', 'query-frontend'].map((name) => [name, ready ? 'Running' : 'Starting'] as const);
  registerOpsRoutes(app, { config, services, metrics, logLevel, version: VERSION, notReady: () => (ready ? undefined : 'Ingester not ready: replaying the WAL'), flush: () => ingester.flushAll() });

  await ingester.start();
  ready = true;
  const host = config.server.http_listen_address || '0.0.0.0';
  await app.listen({ host, port: config.server.http_listen_port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.http_listen_port;
  log.info(`loki-lite ${VERSION} listening on ${host}:${port}, store ${store.objects.description}`);
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    ingester,
    admission,
    async close() {
      await app.close();
      await querier.close();
      await ingester.stop();
    },
  };
}

/** Where query shards run: querier.worker_threads threads (min(max_concurrent, cores) by default), or here. */
function queryShards(config: Config, store: LogStore, log: Logger): { shards?: ShardRunner; shardsPerQuery: number } {
  const { max_concurrent: maxConcurrent, worker_threads: configured, shards_per_query: perQuery } = config.querier;
  const threads = configured ?? Math.min(maxConcurrent, availableParallelism());
  if (threads === 0) return { shardsPerQuery: perQuery || 1 };
  const shards = new WorkerPool(store, threads, (message) => log.warn(message));
  return { shards, shardsPerQuery: perQuery || 2 * threads };
}

/**
 * The command line: flags, config, start, and a clean flush on SIGTERM/SIGINT. A bad flag or config, a
 * role loki-lite cannot run, or a WAL folder another process holds ends in one clear message and exit
 * status 1.
 */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    const flags = parseFlags(argv);
    if (flags.help) return exitWith(0, process.stderr, usage());
    if (flags.version) return exitWith(0, process.stdout, versionText('loki-lite', VERSION));
    const loaded = loadConfig(flags);
    const config = loaded.config;
    const log = stderrLogger(config.server.log_level, config.server.log_format);
    log.info(`config: ${loaded.source}`);
    for (const w of loaded.warnings) log.warn(w);
    if (flags.printConfig) process.stderr.write(`---\n${configYaml(config)}`);
    if (flags.logConfigReverse) for (const line of configYaml(config).trimEnd().split('\n').reverse()) log.info(line);
    const server = await startLokiLite(config, { log });
    closeOnSignals(log, 'flushing and shutting down', () => server.close());
  } catch (e) {
    if (e instanceof FlagError || e instanceof ConfigError || e instanceof StartupError) return exitWith(1, process.stderr, `${e.message}\n`);
    throw e;
  }
}
