import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

export interface OpsDeps {
  readonly metrics: Metrics;
  readonly version: string;
  /** Undefined when ready, else why not. */
  readonly notReady: () => string | undefined;
  readonly flush: () => Promise<void>;
}

/** /ready, /metrics, build info and /flush. */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  app.get('/ready', async (_req, reply) => {
    const why = deps.notReady();
    if (why) return reply.code(503).type('text/plain; charset=utf-8').send(why + '\n');
    return reply.type('text/plain; charset=utf-8').send('ready\n');
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  const buildinfo = async () => ({
    version: deps.version, revision: '', branch: '', buildUser: '', buildDate: '', goVersion: `node ${process.version}`,
  });
  app.get('/loki/api/v1/status/buildinfo', buildinfo);
  app.get('/api/v1/status/buildinfo', buildinfo);
  const flush = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    await deps.flush();
    return reply.code(204).send();
  };
  app.post('/flush', flush);
  app.get('/flush', flush);
}
