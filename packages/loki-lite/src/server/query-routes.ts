import { formatFloat, type Labels, labelsToRecord, nowNanos } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { parseQuery } from '../logql/syntax/parser.js';
import { prettify } from '../logql/syntax/print.js';
import type { ResultEntry, StreamResult } from '../shard/types.js';
import type { MatrixSeries, QueryEngine } from '../frontend/query-engine.js';
import { queryTenantOf, requestParams } from './app.js';
import { directionParam, limitParam, QUERY_RANGE_DEFAULT_SINCE, stepParam, timeRange, timestampParam } from './params.js';
import { statsJson } from './stats.js';

/*
 * The query API over HTTP: reads the request's parameters, hands them to the query engine, and writes its
 * typed answer in Loki's JSON. Everything between (parse, limits, admission, timeout) is the engine's.
 */

/** A timestamp as Loki writes sample times: seconds since the epoch as a JSON number. */
const seconds = (ns: bigint) => Number(ns / 1_000_000n) / 1000;

/** Loki's answer: `status`, `data`, and `warnings` when the query had to leave something out. */
function sendData(reply: FastifyReply, data: unknown, warnings: readonly string[] = []) {
  return reply.type('application/json; charset=UTF-8').send(JSON.stringify({ status: 'success', data, ...(warnings.length > 0 ? { warnings } : {}) }));
}

function matrixJson(series: readonly MatrixSeries[]) {
  return series.map((s) => ({ metric: labelsToRecord(s.labels), values: s.timestamps.map((ts, i) => [seconds(ts), formatFloat(s.values[i]!)]) }));
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

/**
 * An AbortSignal that aborts when the client goes away before its answer is sent, so that the query stops
 * and frees its slot. (The request's own 'close' fires once its body is read; the response's fires when
 * the answer is written or the connection drops.)
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** /loki/api/v1/query_range and /loki/api/v1/query (GET, or POST with a form body). */
export function registerQueryRoutes(app: FastifyInstance, config: Config, engine: QueryEngine): void {
  const queryRange = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = queryTenantOf(req, config); // first, as Loki's auth middleware runs before the handler
    const params = requestParams(req);
    const { start, end } = timeRange(params, QUERY_RANGE_DEFAULT_SINCE);
    // In the order Loki's loghttp reads them, so that of two bad parameters the same one is reported.
    const limit = limitParam(params, 100);
    const direction = directionParam(params);
    const step = stepParam(params, start, end);
    const categorize = wantsCategorized(req);
    const { value, stats, execSeconds, queueSeconds } = await engine.range({
      tenant,
      query: params.get('query') ?? '',
      start,
      end,
      step,
      limit,
      direction,
      categorize,
      signal: clientGone(reply),
    });
    const statsBlock = statsJson(stats, execSeconds, queueSeconds);
    if (value.kind === 'matrix') return sendData(reply, { resultType: 'matrix', result: matrixJson(value.series), stats: statsBlock }, stats.warnings);
    const data = { resultType: 'streams', result: streamsJson(value.streams, categorize), stats: statsBlock };
    return sendData(reply, categorize ? { ...data, encodingFlags: [CATEGORIZE_LABELS] } : data, stats.warnings);
  };

  const instantQuery = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = queryTenantOf(req, config);
    const params = requestParams(req);
    const {
      value,
      stats: queryStats,
      execSeconds,
      queueSeconds,
    } = await engine.instant({
      tenant,
      query: params.get('query') ?? '',
      time: timestampParam(params, 'time', nowNanos()),
      signal: clientGone(reply),
    });
    const stats = statsJson(queryStats, execSeconds, queueSeconds);
    const t = seconds(value.time);
    if (value.kind === 'scalar') return sendData(reply, { resultType: 'scalar', result: [t, formatFloat(value.value)], stats }, queryStats.warnings);
    const result = value.samples.map((s) => ({ metric: labelsToRecord(s.labels), value: [t, formatFloat(s.value)] }));
    return sendData(reply, { resultType: 'vector', result, stats }, queryStats.warnings);
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
