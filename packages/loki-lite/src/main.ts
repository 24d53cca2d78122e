import { readFileSync } from 'node:fs';
import { closeOnSignals, ConfigError, exitWith, FlagError, type LevelControl, type Logger, StartupError, stderrLogger, versionText } from '@loki-lite/shared';
import { parseFlags, usage } from './config/flags.js';
import { configYaml } from './config/print.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import type { Ingester } from './ingester/ingester.js';
import type { Ticker } from './util/ticker.js';
import { compose } from './modules/compose.js';
import type { Admission } from './frontend/admission.js';
import type { ObjectStore } from './storage/object-store.js';

export { parseConfig } from './config/load.js';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface RunningServer {
  /** e.g. http://127.0.0.1:3100 */
  readonly url: string;
  readonly port: number;
  readonly ingester: Ingester;
  /** The process's one admission control for queries (tests look at its queue). */
  readonly admission: Admission;
  /** Stops every module, last started first: the server, then the query path, then the ingester's flush. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** The process's logger; one that can change its level (stderrLogger) also serves /log_level. */
  readonly log?: Logger & Partial<LevelControl>;
  /** Overrides the object store the config names (tests). */
  readonly objectStore?: ObjectStore;
  /** What runs the runtime config's reload every period (tests tick it by hand). */
  readonly runtimeConfigTicker?: Ticker;
}

/** Builds the modules of config.target (see modules/) and starts them. */
export async function startLokiLite(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? stderrLogger(config.server.log_level, config.server.log_format);
  const { app, services, store, ingester, admission } = compose(config, {
    log,
    version: VERSION,
    ...(opts.objectStore ? { objectStore: opts.objectStore } : {}),
    ...(opts.runtimeConfigTicker ? { runtimeConfigTicker: opts.runtimeConfigTicker } : {}),
  });
  await services.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.http_listen_port;
  const host = config.server.http_listen_address || '0.0.0.0';
  log.info(`loki-lite ${VERSION} listening on ${host}:${port}, store ${store.objects.description}`);
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    ingester: ingester!,
    admission: admission!,
    close: () => services.stop(),
  };
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
