import { decodePushBody } from '@loki-lite/shared';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Distributor } from '../distributor/distributor.js';
import { tenantOf } from './app.js';

/** POST /loki/api/v1/push (and the legacy /api/prom/push): 204 once the push is durable. */
export function registerPushRoutes(app: FastifyInstance, config: Config, distributor: Distributor): void {
  const handler = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const tenant = tenantOf(req, config);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const push = decodePushBody(body, {
      contentType: req.headers['content-type'],
      contentEncoding: req.headers['content-encoding'] as string | undefined,
      maxMessageBytes: config.distributor.max_recv_msg_size,
    });
    await distributor.push(tenant, push);
    return reply.code(204).send();
  };
  app.post('/loki/api/v1/push', handler);
  app.post('/api/prom/push', handler);
}
