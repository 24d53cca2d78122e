import { labelsToRecord, LokiError, printLabels } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { parseMatchers } from '../logql/syntax/parser.js';
import type { Querier } from '../querier/querier.js';
import { requestParams, tenantOf } from './app.js';
import { limitParam, METADATA_DEFAULT_SINCE, stepParam, timeRange } from './params.js';

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
  /** The volume parameters: selector, target labels, aggregation and limit, with Loki's errors. */
  const volumeParams = (params: URLSearchParams) => {
    const aggregateBy = params.get('aggregateBy') ?? 'series';
    if (aggregateBy !== 'series' && aggregateBy !== 'labels') throw new LokiError('bad_data', 'bad_request', `invalid aggregateBy: ${aggregateBy}`);
    const target = (params.get('targetLabels') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
    return { matchers: parseMatchers(params.get('query') ?? ''), target, aggregateBy: aggregateBy as 'series' | 'labels', limit: limitParam(params, 100) };
  };

  /** index/volume: an instant vector of bytes per group at `end`, largest first. */
  const volume = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const { matchers, target, aggregateBy, limit } = volumeParams(params);
    const groups = (await querier.volume(tenant, matchers, start, end, target, aggregateBy)).slice(0, limit);
    const t = Number(end / 1_000_000_000n);
    const result = groups.map((g) => ({ metric: labelsToRecord(g.labels), value: [t, String(g.bytes)] }));
    return reply.type('application/json; charset=UTF-8').send(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  };

  /** index/volume_range: the same per step, each step covering [t, t + step), as a matrix. */
  const volumeRange = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const step = stepParam(params, start, end);
    const { matchers, target, aggregateBy, limit } = volumeParams(params);
    const series = new Map<string, { metric: Record<string, string>; total: number; values: Array<[number, string]> }>();
    for (let t = start; t <= end; t += step) {
      for (const g of await querier.volume(tenant, matchers, t, t + step - 1n, target, aggregateBy)) {
        const key = printLabels(g.labels);
        let s = series.get(key);
        if (!s) series.set(key, (s = { metric: labelsToRecord(g.labels), total: 0, values: [] }));
        s.total += g.bytes;
        s.values.push([Number(t / 1_000_000_000n), String(g.bytes)]);
      }
    }
    const result = [...series.values()].sort((a, b) => b.total - a.total).slice(0, limit).map(({ metric, values }) => ({ metric, values }));
    return reply.type('application/json; charset=UTF-8').send(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
  };
  for (const [path, handler] of [['/loki/api/v1/index/volume', volume], ['/loki/api/v1/index/volume_range', volumeRange]] as const) {
    app.get(path, handler);
    app.post(path, handler);
  }

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
