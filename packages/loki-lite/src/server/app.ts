import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import { tenantsFromHeader } from '../distributor/tenant.js';
import { formatGoDuration, LokiError, type Logger } from '@loki-lite/shared';
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

/** The tenant of a request (one: `a|b` answers Loki's 400 "multiple org IDs present"). */
export function tenantOf(req: FastifyRequest, config: Config): string {
  return tenantsOf(req, config, false)[0]!;
}

/**
 * The tenants of a query: with querier.multi_tenant_queries_enabled, Loki's `a|b` (sorted, each once),
 * given to the querier as one `a|b` string.
 */
export function queryTenantOf(req: FastifyRequest, config: Config): string {
  return tenantsOf(req, config, config.querier.multi_tenant_queries_enabled).join('|');
}

function tenantsOf(req: FastifyRequest, config: Config, allowMultiple: boolean): string[] {
  const header = req.headers['x-scope-orgid'];
  return tenantsFromHeader(Array.isArray(header) ? header[0] : header, config.auth_enabled, allowMultiple);
}

export interface AppOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Request durations and in-flight requests go here when given. */
  readonly metrics?: Metrics;
}

/**
 * A fastify instance with Loki's conventions: bodies are handed to handlers as raw buffers (the push codec
 * decides what they are), errors are text/plain with Loki's wording, unknown paths answer Go's 404 text.
 */
export function createApp({ config, log, metrics }: AppOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: config.distributor.max_recv_msg_size, logger: false, rewriteUrl: pathPrefixRewrite(config.server.http_path_prefix) });
  if (metrics) instrument(app, metrics);
  const errorBodies = logRequests(app, log, config.server.log_request_at_info_level_enabled);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, req, reply) => {
    const { status, message } = toHttpError(err);
    if (!(err instanceof LokiError) && status >= 500) {
      metrics?.panics.inc();
      log.error(`${req.method} ${req.url}: ${err instanceof Error && err.stack ? err.stack : message}`);
    }
    errorBodies.set(req, message + '\n');
    void reply
      .code(status)
      .type('text/plain; charset=utf-8')
      .send(message + '\n');
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });
  return app;
}

/** A path pattern as Loki's server middleware names a route in its metrics: `/loki/api/v1/push` -> `loki_api_v1_push`. */
export function routeLabel(pattern: string | undefined): string {
  if (pattern === undefined) return 'other';
  const name = pattern.replace(/^\/+|\/+$/g, '').replace(/[^a-zA-Z0-9_]+/g, '_');
  return name === '' ? 'root' : name;
}

/**
 * loki_request_duration_seconds and loki_inflight_requests for every request. A WebSocket (tail) is taken
 * over by its handler and never answered as such: it is counted when its connection closes, with status
 * 200, as Loki's middleware sees a hijacked connection; a refused upgrade with the status it was answered.
 */
function instrument(app: FastifyInstance, metrics: Metrics): void {
  const finishers = new WeakMap<FastifyRequest, (status: number) => void>();
  app.addHook('onRequest', async (req) => {
    const route = routeLabel(req.routeOptions.url);
    const ws = req.headers.upgrade?.toLowerCase() === 'websocket';
    const at = process.hrtime.bigint();
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      metrics.inflightRequests.dec({ method: req.method, route });
      metrics.requestDuration.observe({ method: req.method, route, status_code: String(status), ws: String(ws) }, Number(process.hrtime.bigint() - at) / 1e9);
    };
    metrics.inflightRequests.inc({ method: req.method, route });
    finishers.set(req, finish);
    // An upgrade refused (400) is answered; one taken is counted when its connection closes.
    if (ws) req.raw.socket.once('close', () => finish(200));
  });
  app.addHook('onResponse', async (req, reply) => {
    finishers.get(req)?.(reply.statusCode);
  });
}

/**
 * One line per request, as Loki's server middleware (dskit's middleware.Log) writes it: `POST
 * /loki/api/v1/push (204) 1.52ms` at debug (at info with server.log_request_at_info_level_enabled), and a
 * server error at warn with the body it answered: `GET /loki/api/v1/query (500) 3ms Response: "..."`. A
 * 502 or 503 counts as a success here, as there (a busy or stopping server is not an error to chase).
 * Returns where the error handler leaves the bodies it answered.
 */
function logRequests(app: FastifyInstance, log: Logger, atInfo: boolean): WeakMap<FastifyRequest, string> {
  const errorBodies = new WeakMap<FastifyRequest, string>();
  const successLevel = atInfo ? 'info' : 'debug';
  app.addHook('onResponse', async (req, reply) => {
    const status = reply.statusCode;
    const quiet = status < 500 || status === 502 || status === 503;
    if (!log.enabled(quiet ? successLevel : 'warn')) return;
    const line = `${req.method} ${req.originalUrl} (${status}) ${formatGoDuration(BigInt(Math.round(reply.elapsedTime * 1e6)))}`;
    if (quiet) log[successLevel](line);
    else log.warn(`${line} Response: ${JSON.stringify(errorBodies.get(req) ?? '')}`);
  });
  return errorBodies;
}

/**
 * server.http_path_prefix as Loki serves it: every route under the prefix, and nothing outside it. A path
 * outside the prefix is sent to a path no route has, so it answers the usual 404.
 */
const OUTSIDE_PREFIX = '/__outside_http_path_prefix__';

function pathPrefixRewrite(prefix: string): ((req: { url?: string }) => string) | undefined {
  const base = prefix.replace(/\/+$/, '');
  if (base === '') return undefined;
  return (req) => {
    const url = req.url ?? '/';
    if (url !== base && !url.startsWith(`${base}/`) && !url.startsWith(`${base}?`)) return OUTSIDE_PREFIX;
    const rest = url.slice(base.length);
    return rest.startsWith('/') ? rest : `/${rest}`;
  };
}
