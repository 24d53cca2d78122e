import { type Labels, labelsToRecord, LokiError, printLabels } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { parseMatchers } from '../logql/syntax/parser.js';
import type { MetadataQuerier } from '../querier/metadata.js';
import { queryTenantOf, requestParams, tenantOf } from './app.js';
import { limitParam, METADATA_DEFAULT_SINCE, stepParam, timeRange } from './params.js';

const MS = 1_000_000n;

interface VolumeBucket {
  /** Its timestamp, ns. */
  readonly at: bigint;
  readonly groups: ReadonlyArray<{ labels: Labels; bytes: number }>;
}

const json = (reply: FastifyReply, body: unknown) => reply.type('application/json; charset=UTF-8').send(JSON.stringify(body));

/**
 * Loki's answer for volumes (ToPrometheusResponse): a vector when no group has more than one bucket,
 * else a matrix; groups ordered by their first value, largest first, then by name (the label string, or
 * the label name with aggregateBy=labels); times in seconds with millisecond precision.
 */
function volumeAnswer(buckets: readonly VolumeBucket[], aggregateBy: 'series' | 'labels') {
  const byName = new Map<string, { labels: Labels; samples: Array<[number, string]> }>();
  for (const b of buckets) {
    const t = Number(b.at / MS) / 1000;
    for (const g of b.groups) {
      const name = aggregateBy === 'labels' ? g.labels[0]!.name : printLabels(g.labels);
      let s = byName.get(name);
      if (!s) byName.set(name, (s = { labels: g.labels, samples: [] }));
      s.samples.push([t, String(g.bytes)]);
    }
  }
  const series = [...byName].sort(([an, a], [bn, b]) => Number(b.samples[0]![1]) - Number(a.samples[0]![1]) || (an < bn ? -1 : an > bn ? 1 : 0));
  const matrix = series.some(([, s]) => s.samples.length > 1);
  const result = series.map(([, s]) =>
    matrix ? { metric: labelsToRecord(s.labels), values: s.samples } : { metric: labelsToRecord(s.labels), value: s.samples[0] },
  );
  return { status: 'success', data: { resultType: matrix ? 'matrix' : 'vector', result } };
}

/** Loki omits `data` when a label list is empty (`json:"data,omitempty"`). */
function labelAnswer(values: string[]): string {
  return JSON.stringify(values.length > 0 ? { status: 'success', data: values } : { status: 'success' });
}

/** labels, label values and series, as Grafana's label browser and variables call them. */
export function registerMetadataRoutes(app: FastifyInstance, config: Config, querier: MetadataQuerier): void {
  const selectorOf = (params: URLSearchParams) => {
    const q = params.get('query');
    return q ? parseMatchers(q) : undefined;
  };

  const labels = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = queryTenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const names = await querier.labelNames(tenant, start, end, selectorOf(params));
    return reply.type('application/json; charset=UTF-8').send(labelAnswer(names));
  };

  const labelValues = async (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const tenant = queryTenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const values = await querier.labelValues(tenant, req.params.name, start, end, selectorOf(params));
    return reply.type('application/json; charset=UTF-8').send(labelAnswer(values));
  };

  const series = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = queryTenantOf(req, config);
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
    const target = (params.get('targetLabels') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    return { matchers: parseMatchers(params.get('query') ?? ''), target, aggregateBy: aggregateBy as 'series' | 'labels', limit: limitParam(params, 100) };
  };

  /** index/volume: the volume of [start, end], stamped at `end`. */
  const volume = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const { matchers, target, aggregateBy, limit } = volumeParams(params);
    const groups = await querier.volume(tenant, matchers, start, end, target, aggregateBy);
    return json(reply, volumeAnswer([{ at: end, groups: groups.slice(0, limit) }], aggregateBy));
  };

  /**
   * index/volume_range: one volume per step interval (aligned to multiples of the step, as Loki splits),
   * each stamped at its last millisecond, the last one at `end`.
   */
  const volumeRange = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const step = stepParam(params, start, end);
    const { matchers, target, aggregateBy, limit } = volumeParams(params);
    const buckets: VolumeBucket[] = [];
    for (let from = start - (start % step); from < end; from += step) {
      const through = from + step < end ? from + step - MS : end;
      const groups = await querier.volume(tenant, matchers, from < start ? start : from, through, target, aggregateBy);
      buckets.push({ at: through, groups: groups.slice(0, limit) });
    }
    return json(reply, volumeAnswer(buckets, aggregateBy));
  };
  for (const [path, handler] of [
    ['/loki/api/v1/index/volume', volume],
    ['/loki/api/v1/index/volume_range', volumeRange],
  ] as const) {
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
