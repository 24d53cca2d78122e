import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { tenantsFromHeader } from '../distributor/tenant.js';
import type { Logger } from '@loki-lite/shared';
import { toHttpError } from './http-errors.js';

/** Query string and (for POST forms) body parameters of a request, merged as Go's r.Form does. */
export function requestParams(req: FastifyRequest): URLSearchParams {
  const q = req.url.indexOf('?');
  const params = new URLSearchParams(q >= 0 ? req.url.slice(q + 1) : '');
  const type = String(req.headers['content-type'] ?? '');
  if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded') && Buffer.isBuffer(req.body)) {
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
  }
  return params;
}

/** The tenant of a request; queries may later allow `a|b`. */
export function tenantOf(req: FastifyRequest, config: Config): string {
  const header = req.headers['x-scope-orgid'];
  return tenantsFromHeader(Array.isArray(header) ? header[0] : header, config.auth_enabled, false)[0]!;
}

export interface AppOptions {
  readonly config: Config;
  readonly log: Logger;
}

/**
 * A fastify instance with Loki's conventions: bodies are handed to handlers as raw buffers (the push codec
 * decides what they are), errors are text/plain with Loki's wording, unknown paths answer Go's 404 text.
 */
export function createApp({ config, log }: AppOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: config.distributor.max_recv_msg_size, logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, req, reply) => {
    const { status, message } = toHttpError(err);
    if (status >= 500) log.error(`${req.method} ${req.url}: ${message}`);
    void reply.code(status).type('text/plain; charset=utf-8').send(message + '\n');
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });
  return app;
}
