import { formatGoDuration, LokiError, type Logger } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { badDeleteRequest as bad, type DeleteRequest, newDeleteRequest, requestStatus } from '../deletion/request.js';
import type { DeleteRequestStore } from '../deletion/store.js';
import type { Limits } from '../limits/limits.js';
import { requestParams, tenantOf } from './app.js';

/*
 * Loki's delete API (pkg/compactor/deletion/request_handler.go and its TenantMiddleware): add, list and
 * cancel delete requests, and the tenant's cache generation number. Every route first checks the
 * tenant's deletion_mode. Errors are text/plain with Loki's wording, as the app's error handler writes them.
 */

export interface DeleteRouteDeps {
  readonly store: DeleteRequestStore;
  readonly limits: Limits;
  readonly log: Logger;
  /** Unix ms (an injectable clock for tests). */
  readonly now?: () => number;
  /** loki_compactor_delete_requests_received_total. */
  readonly received?: (tenant: string) => void;
}

export function registerDeleteRoutes(app: FastifyInstance, config: Config, deps: DeleteRouteDeps): void {
  const { store, limits, log } = deps;
  const now = deps.now ?? Date.now;

  /** The tenant of a delete route, refused (403) when its deletion_mode is disabled. */
  const tenantFor = (req: FastifyRequest): string => {
    const tenant = tenantOf(req, config);
    if (limits.forTenant(tenant).deletion_mode === 'disabled')
      throw new LokiError('forbidden', 'deletion_disabled', 'deletion is not available for this tenant');
    return tenant;
  };

  const add = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantFor(req);
    const params = requestParams(req);
    const request = newDeleteRequest(
      { query: params.get('query'), start: params.get('start'), end: params.get('end'), maxInterval: params.get('max_interval') },
      now(),
      config.compactor.delete_max_interval,
    );
    const created = await store.add(tenant, request);
    if (created.length === 0) {
      throw new LokiError('internal', 'zero_delete_requests', 'Zero delete requests were created due to an internal error. Please contact support.');
    }
    log.fields('info', [
      ['msg', 'delete request for user added'],
      ['delete_request_id', created[0]!.requestId],
      ['user', tenant],
      ['query', request.query],
      ['interval', formatGoDuration(request.intervalNs)],
    ]);
    deps.received?.(tenant);
    return reply.code(204).send();
  };

  const list = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantFor(req);
    const answer = mergePieces(await store.forTenant(tenant)).sort((a, b) => a.created_at - b.created_at);
    return sendJson(reply, answer);
  };

  const cancel = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantFor(req);
    const params = requestParams(req);
    const requestId = params.get('request_id') ?? '';
    const pieces = await store.request(tenant, requestId);
    const received = pieces.filter((p) => p.status === 'received');
    if (received.length === 0) throw bad('deletion of request which is in process or already processed is not allowed');
    if (received.length !== pieces.length && params.get('force') !== 'true') {
      throw bad('Unable to cancel partially completed delete request. To force, use the ?force query parameter');
    }
    await store.cancel(tenant, requestId, received);
    return reply.code(204).send();
  };

  const generation = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantFor(req);
    let gen: string;
    try {
      gen = await store.cacheGeneration(tenant);
    } catch (e) {
      throw new LokiError('internal', 'cache_generation', `error getting cache generation number ${(e as Error).message}`);
    }
    return sendJson(reply, gen);
  };

  app.post('/loki/api/v1/delete', add);
  app.put('/loki/api/v1/delete', add);
  app.get('/loki/api/v1/delete', list);
  app.delete('/loki/api/v1/delete', cancel);
  app.get('/loki/api/v1/cache/generation_numbers', generation);
}

/** JSON as Go's json.Encoder writes it, with Loki's bare content type (a string body would gain a charset). */
function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body) + '\n'));
}

/** Loki's JSON of one request (its pieces merged): times as model.Time encodes them, unix seconds. */
interface RequestAnswer {
  readonly request_id: string;
  readonly start_time: number;
  readonly end_time: number;
  readonly query: string;
  readonly status: string;
  readonly created_at: number;
}

/** One answer per request id: the earliest start and latest end of its pieces, and their combined status. */
function mergePieces(pieces: readonly DeleteRequest[]): RequestAnswer[] {
  const byId = new Map<string, DeleteRequest[]>();
  for (const p of pieces) {
    const list = byId.get(p.requestId);
    if (list) list.push(p);
    else byId.set(p.requestId, [p]);
  }
  return [...byId.values()].map((group) => ({
    request_id: group[0]!.requestId,
    start_time: Math.min(...group.map((p) => p.startMs)) / 1000,
    end_time: Math.max(...group.map((p) => p.endMs)) / 1000,
    query: group[0]!.query,
    status: requestStatus(group),
    created_at: group[0]!.createdAtMs / 1000,
  }));
}
