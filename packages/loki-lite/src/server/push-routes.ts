import { type DecodedPushRequest, decodePushBody, formatSIBytes, type Logger, SnappyScratchDecoder } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Distributor } from '../distributor/distributor.js';
import { tenantOf } from './app.js';

/** POST /loki/api/v1/push (and the legacy /api/prom/push): 204 once the push is durable. */
export function registerPushRoutes(app: FastifyInstance, config: Config, distributor: Distributor, log: Logger): void {
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
    const decoded = decodePushBody(body, decodeOptions);
    if (log.enabled('debug')) logParsedPush(log, req, body.length, decoded);
    return distributor.push(tenant, decoded).then(() => reply.code(204).send());
  };
  // Loki's router answers the push paths' other methods with 405 and an empty body.
  const notAllowed = (_req: FastifyRequest, reply: FastifyReply) => reply.code(405).send();
  for (const route of ['/loki/api/v1/push', '/api/prom/push']) {
    app.post(route, handler);
    app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: route, handler: notAllowed });
  }
}

/**
 * Loki's debug line for every push (`msg="push request parsed"`, pkg/loghttp/push): its sizes and how far
 * behind its newest entry is (`mostRecentLagMs`), which is how an operator finds a slow or lagging client.
 */
function logParsedPush(log: Logger, req: FastifyRequest, bodySize: number, decoded: DecodedPushRequest): void {
  let entries = 0;
  let labelsSize = 0;
  let linesSize = 0;
  let metadataSize = 0;
  let newestSeconds = -Infinity;
  for (const { labels, entries: batch } of decoded.streams) {
    labelsSize += labels.length;
    entries += batch.count;
    for (let i = 0; i < batch.count; i++) {
      linesSize += batch.lineBytes(i);
      for (const m of batch.structuredMetadata(i)) metadataSize += m.name.length + m.value.length;
      const k = batch.first + i;
      newestSeconds = Math.max(newestSeconds, batch.columns.seconds[k]! + batch.columns.nanos[k]! / 1e9);
    }
  }
  const entriesSize = linesSize + metadataSize;
  const fields: Array<[string, string | number]> = [
    ['msg', 'push request parsed'],
    ['path', req.url.split('?', 1)[0]!],
    ['contentType', String(req.headers['content-type'] ?? '')],
    ['contentEncoding', String(req.headers['content-encoding'] ?? '')],
    ['bodySize', formatSIBytes(bodySize)],
    ['streams', decoded.streams.length],
    ['entries', entries],
    ['streamLabelsSize', formatSIBytes(labelsSize)],
    ['entriesSize', formatSIBytes(entriesSize)],
    ['structuredMetadataSize', formatSIBytes(metadataSize)],
    ['totalSize', formatSIBytes(entriesSize + labelsSize)],
    // With no entry, the lag since the epoch, as Loki's zero timestamp gives.
    ['mostRecentLagMs', Math.round(Date.now() - (entries === 0 ? 0 : newestSeconds * 1000))],
  ];
  const agent = req.headers['user-agent'];
  if (agent) fields.push(['userAgent', agent.trim()]);
  log.fields('debug', fields);
}
