import { decodePushBody, SnappyScratchDecoder } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Distributor } from '../distributor/distributor.js';
import { tenantOf } from './app.js';

/** POST /loki/api/v1/push (and the legacy /api/prom/push): 204 once the push is durable. */
export function registerPushRoutes(app: FastifyInstance, config: Config, distributor: Distributor): void {
  // Safe to share: a request is decoded and consumed within one synchronous step (see distributor.push).
  const scratch = new SnappyScratchDecoder();
  // Not async: the decoded request is passed straight on, so no frame keeps it alive during the fsync.
  const handler = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const tenant = tenantOf(req, config);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const decodeOptions = {
      contentType: req.headers['content-type'],
      contentEncoding: req.headers['content-encoding'] as string | undefined,
      maxMessageBytes: config.distributor.max_recv_msg_size,
      scratch,
    };
    return distributor.push(tenant, decodePushBody(body, decodeOptions)).then(() => reply.code(204).send());
  };
  // Loki's router answers the push paths' other methods with 405 and an empty body.
  const notAllowed = (_req: FastifyRequest, reply: FastifyReply) => reply.code(405).send();
  for (const route of ['/loki/api/v1/push', '/api/prom/push']) {
    app.post(route, handler);
    app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: route, handler: notAllowed });
  }
}
