import { labelsToRecord } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { parseMatchers } from '../logql/syntax/parser.js';
import type { Querier } from '../querier/querier.js';
import { requestParams, tenantOf } from './app.js';
import { METADATA_DEFAULT_SINCE, timeRange } from './params.js';

/** Loki omits `data` when a label list is empty (`json:"data,omitempty"`). */
function labelAnswer(values: string[]): string {
  return JSON.stringify(values.length > 0 ? { status: 'success', data: values } : { status: 'success' });
}

/** labels, label values and series, as Grafana's label browser and variables call them. */
export function registerMetadataRoutes(app: FastifyInstance, config: Config, querier: Querier): void {
  const selectorOf = (params: URLSearchParams) => {
    const q = params.get('query');
    return q ? parseMatchers(q) : undefined;
  };

  const labels = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const names = await querier.labelNames(tenant, start, end, selectorOf(params));
    return reply.type('application/json; charset=UTF-8').send(labelAnswer(names));
  };

  const labelValues = async (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const values = await querier.labelValues(tenant, req.params.name, start, end, selectorOf(params));
    return reply.type('application/json; charset=UTF-8').send(labelAnswer(values));
  };

  const series = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const selectors = [...params.getAll('match[]'), ...params.getAll('match')].map(parseMatchers);
    const found = await querier.series(tenant, selectors, start, end);
    return reply.type('application/json; charset=UTF-8').send(JSON.stringify({ status: 'success', data: found.map(labelsToRecord) }));
  };

  const indexStats = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const stats = await querier.indexStats(tenant, parseMatchers(params.get('query') ?? ''), start, end);
    return reply.type('application/json; charset=UTF-8').send(JSON.stringify(stats));
  };
  app.get('/loki/api/v1/index/stats', indexStats);
  app.post('/loki/api/v1/index/stats', indexStats);

  for (const path of ['/loki/api/v1/labels', '/loki/api/v1/label', '/api/prom/label']) {
    app.get(path, labels);
    app.post(path, labels);
  }
  for (const path of ['/loki/api/v1/label/:name/values', '/api/prom/label/:name/values']) {
    app.get(path, labelValues);
    app.post(path, labelValues);
  }
  for (const path of ['/loki/api/v1/series', '/api/prom/series']) {
    app.get(path, series);
    app.post(path, series);
  }
}
