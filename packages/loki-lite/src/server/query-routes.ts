import { formatPromDuration, type Labels, LokiError, labelsToRecord, nowNanos } from '@loki-lite/shared';
import { evaluateAt, prepare, type SampleSource } from '../logql/engine/evaluate.js';
import { formatFloat, type Sample } from '../logql/engine/value.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { parseQuery } from '../logql/syntax/parser.js';
import { prettify } from '../logql/syntax/print.js';
import type { Querier, QueryStats, ResultEntry, StreamResult } from '../querier/querier.js';
import { alignRangeToStep } from '../querier/step-align.js';
import { requestParams, tenantOf } from './app.js';
import { directionParam, limitParam, QUERY_RANGE_DEFAULT_SINCE, stepParam, timeRange, timestampParam } from './params.js';
import { newQueryStats, statsJson } from './stats.js';

const bad = (message: string) => new LokiError('bad_data', 'bad_request', message);

/** A timestamp as Loki writes sample times: seconds since the epoch as a JSON number. */
const seconds = (ns: bigint) => Number(ns / 1_000_000n) / 1000;
const secondsSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

function sendData(reply: FastifyReply, data: unknown) {
  return reply.type('application/json; charset=UTF-8').send(JSON.stringify({ status: 'success', data }));
}

/** Evaluates a sample expression at start, start+step, ... <= end into Loki's matrix form. */
async function evaluateRange(expr: SampleExpr, source: SampleSource, start: bigint, end: bigint, step: bigint) {
  const evaluator = await prepare(expr, source, start, end, step);
  const series = new Map<string, { metric: Record<string, string>; values: Array<[number, string]> }>();
  for (let ts = start; ts <= end; ts += step) {
    const value = evaluator.at(ts);
    const samples: readonly Sample[] = value.kind === 'scalar' ? [{ labels: [], key: '{}', value: value.value }] : value.samples;
    for (const s of samples) {
      let entry = series.get(s.key);
      if (!entry) series.set(s.key, (entry = { metric: labelsToRecord(s.labels), values: [] }));
      entry.values.push([seconds(ts), formatFloat(s.value)]);
    }
  }
  return [...series.values()];
}

/** Loki's max_query_series: a metric answer with more series is refused (0 disables). */
function checkSeriesLimit(series: number, limit: number): void {
  if (limit > 0 && series > limit) throw new LokiError('limit', 'max_query_series', `maximum of series (${limit}) reached for a single query`);
}

/** The querier as the engine's sample source, for one query of one tenant. */
function sampleSource(querier: Querier, tenant: string, stats: QueryStats): SampleSource {
  return {
    fold: (fold) => querier.fold(tenant, fold, stats),
    streams: (expr, from, through, grouping) => querier.selectSamples(tenant, expr, from, through, stats, grouping),
  };
}

function streamsJson(streams: readonly StreamResult[], categorize: boolean) {
  return streams.map((s) => ({
    stream: labelsToRecord(s.labels as Labels),
    values: s.entries.map((e) => (categorize ? [e.timestamp.toString(), e.line, categories(e)] : [e.timestamp.toString(), e.line])),
  }));
}

/** The third element of a categorized entry: only the categories it has, `{}` when none. */
function categories(e: ResultEntry): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (e.structuredMetadata.length > 0) out.structuredMetadata = labelsToRecord(e.structuredMetadata);
  if (e.parsed && e.parsed.length > 0) out.parsed = labelsToRecord(e.parsed);
  return out;
}

/** Whether the client asked for Loki's categorize-labels encoding (Grafana does). */
function wantsCategorized(req: FastifyRequest): boolean {
  const flags = req.headers['x-loki-response-encoding-flags'];
  const list = Array.isArray(flags) ? flags.join(',') : (flags ?? '');
  return list.split(',').some((f) => f.trim() === CATEGORIZE_LABELS);
}

const CATEGORIZE_LABELS = 'categorize-labels';

/** /loki/api/v1/query_range and /loki/api/v1/query (GET, or POST with a form body). */
export function registerQueryRoutes(app: FastifyInstance, config: Config, querier: Querier): void {
  const limits = config.limits_config;

  const queryRange = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const expr = parseQuery(params.get('query') ?? '');
    const { start, end } = timeRange(params, QUERY_RANGE_DEFAULT_SINCE);
    if (end < start) throw bad('end timestamp must not be before or equal to start time');
    const limit = limitParam(params, 100);
    const direction = directionParam(params);
    if (limits.max_entries_limit_per_query > 0 && limit > limits.max_entries_limit_per_query) {
      throw bad(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${limits.max_entries_limit_per_query})`);
    }
    if (limits.max_query_length > 0n && end - start > limits.max_query_length) {
      throw bad(`the query time range exceeds the limit (query length: ${formatPromDuration(end - start)}, limit: ${formatPromDuration(limits.max_query_length)})`);
    }
    const stats = newQueryStats(limits.query_timeout);
    if (expr.kind !== 'log_selector') {
      const source = sampleSource(querier, tenant, stats);
      const matrix = await evaluateRange(expr, source, ...alignRangeToStep(start, end, stepParam(params, start, end), config));
      checkSeriesLimit(matrix.length, limits.max_query_series);
      return sendData(reply, { resultType: 'matrix', result: matrix, stats: statsJson(stats, secondsSince(started)) });
    }
    const categorize = wantsCategorized(req);
    const streams = await querier.selectLogs(tenant, {
      selector: expr, from: start, through: end, direction, limit, categorize, splitInterval: limits.split_queries_by_interval,
    }, stats);
    const data = { resultType: 'streams', result: streamsJson(streams, categorize), stats: statsJson(stats, secondsSince(started)) };
    return sendData(reply, categorize ? { ...data, encodingFlags: [CATEGORIZE_LABELS] } : data);
  };

  const instantQuery = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const tenant = tenantOf(req, config);
    const params = requestParams(req);
    const expr = parseQuery(params.get('query') ?? '');
    const time = timestampParam(params, 'time', nowNanos());
    if (expr.kind === 'log_selector') {
      throw bad('log queries are not supported as an instant query type, please change your query to a range query type');
    }
    const queryStats = newQueryStats(limits.query_timeout);
    const value = await evaluateAt(expr, sampleSource(querier, tenant, queryStats), time);
    const stats = statsJson(queryStats, secondsSince(started));
    const t = seconds(time);
    if (value.kind === 'scalar') return sendData(reply, { resultType: 'scalar', result: [t, formatFloat(value.value)], stats });
    checkSeriesLimit(value.samples.length, limits.max_query_series);
    const result = value.samples.map((s) => ({ metric: labelsToRecord(s.labels), value: [t, formatFloat(s.value)] }));
    return sendData(reply, { resultType: 'vector', result, stats });
  };

  /** format_query: the query laid out as Loki's formatter does (Grafana's query editor "Format" button). */
  const formatQuery = async (req: FastifyRequest, reply: FastifyReply) => sendData(reply, prettify(parseQuery(requestParams(req).get('query') ?? '')));
  app.get('/loki/api/v1/format_query', formatQuery);
  app.post('/loki/api/v1/format_query', formatQuery);

  app.get('/loki/api/v1/query_range', queryRange);
  app.post('/loki/api/v1/query_range', queryRange);
  app.get('/loki/api/v1/query', instantQuery);
  app.post('/loki/api/v1/query', instantQuery);
}
