import { isLogLevel, type LevelControl } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { defaultConfig } from '../config/load.js';
import { configDiffYaml, configYaml } from '../config/print.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import { requestParams } from './app.js';

export interface OpsDeps {
  readonly config: Config;
  /** The roles this process runs, in start order, and their state (Loki's service states: Running...). */
  readonly services: () => ReadonlyArray<readonly [name: string, state: string]>;
  readonly metrics: Metrics;
  /** The process's log level, for /log_level; absent when the logger has none to change (tests). */
  readonly logLevel?: LevelControl;
  readonly version: string;
  /** Undefined when ready, else why not. */
  readonly notReady: () => string | undefined;
  /** The runtime config in force as YAML (all of each tenant's limits, or those that differ), or none. */
  readonly runtimeConfig: (mode: 'all' | 'diff') => string | undefined;
}

/** /ready, /metrics, /config, /services and build info. */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  // As Loki: YAML as text/plain (shown in a browser, not downloaded); ?mode=diff or defaults, else all.
  app.get('/config', async (req, reply) => {
    const mode = (req.query as Record<string, string | undefined>).mode;
    const text = mode === 'defaults' ? configYaml(defaultConfig()) : mode === 'diff' ? configDiffYaml(deps.config, defaultConfig()) : configYaml(deps.config);
    return reply.type('text/plain; charset=utf-8').send(text);
  });
  // As the runtime config handler of dskit-based servers (Cortex, Mimir): YAML as text/plain, ?mode=diff for
  // only the limits a tenant sets differently from limits_config. Loki 3 has no such route; this is its shape.
  app.get('/runtime_config', async (req, reply) => {
    const mode = (req.query as Record<string, string | undefined>).mode === 'diff' ? 'diff' : 'all';
    return reply.type('text/plain; charset=utf-8').send(deps.runtimeConfig(mode) ?? "runtime config file doesn't exist");
  });
  // As Loki's log.LevelHandler: GET tells the level, POST log_level=<level> changes it; JSON answers.
  const logLevel = async (req: FastifyRequest, reply: FastifyReply) => {
    const control = deps.logLevel;
    if (!control) return reply.callNotFound();
    if (req.method === 'GET') return reply.send({ message: `Current log level is ${control.level}` });
    const wanted = requestParams(req).get('log_level') ?? '';
    if (!isLogLevel(wanted)) return reply.code(400).send({ status: 'failed', message: `unrecognized log level ${JSON.stringify(wanted)}` });
    control.setLevel(wanted);
    return reply.send({ status: 'success', message: `Log level set to ${wanted}` });
  };
  app.get('/log_level', logLevel);
  app.post('/log_level', logLevel);
  app.get('/services', async (_req, reply) => {
    return reply.type('text/plain; charset=utf-8').send(
      deps
        .services()
        .map(([name, state]) => `${name} => ${state}\n`)
        .join(''),
    );
  });
  app.get('/ready', async (_req, reply) => {
    const why = deps.notReady();
    if (why)
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(why + '\n');
    return reply.type('text/plain; charset=utf-8').send('ready\n');
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  const buildinfo = async () => ({
    version: deps.version,
    revision: '',
    branch: '',
    buildUser: '',
    buildDate: '',
    goVersion: `node ${process.version}`,
  });
  app.get('/loki/api/v1/status/buildinfo', buildinfo);
  app.get('/api/v1/status/buildinfo', buildinfo);
}

/** The ingester's /flush: every chunk in memory goes to the store; 204 once written. */
export function registerFlushRoutes(app: FastifyInstance, flush: () => Promise<void>): void {
  const handler = async (_req: FastifyRequest, reply: FastifyReply) => {
    await flush();
    return reply.code(204).send();
  };
  app.post('/flush', handler);
  app.get('/flush', handler);
}
