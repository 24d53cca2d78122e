import { formatPromDuration, type Labels, LokiError, labelsToRecord } from '@loki-lite/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { parseQuery } from '../logql/syntax/parser.js';
import type { Querier, StreamResult } from '../querier/querier.js';
import { requestParams, tenantOf } from './app.js';
import { directionParam, limitParam, QUERY_RANGE_DEFAULT_SINCE, timeRange, timestampParam } from './params.js';
import { newQueryStats, statsJson } from './stats.js';

const bad = (message: string) => new LokiError('bad_data', 'bad_request', message);

function streamsJson(streams: readonly StreamResult[]) {
  return streams.map((s) => ({
    stream: labelsToRecord(s.labels as Labels),
    values: s.entries.map((e) => [e.timestamp.toString(), e.line]),
  }));
}

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
    const stats = newQueryStats();
    const streams = await querier.selectLogs(tenant, { selector: expr, from: start, through: end, direction, limit }, stats);
    const execSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    return reply.type('application/json; charset=UTF-8').send(
      JSON.stringify({ status: 'success', data: { resultType: 'streams', result: streamsJson(streams), stats: statsJson(stats, execSeconds) } }),
    );
  };

  const instantQuery = async (req: FastifyRequest) => {
    tenantOf(req, config);
    const params = requestParams(req);
    parseQuery(params.get('query') ?? '');
    timestampParam(params, 'time', 0n);
    // Every query loki-lite parses today is a log query, which Loki 3 refuses on this endpoint.
    throw bad('log queries are not supported as an instant query type, please change your query to a range query type');
  };

  app.get('/loki/api/v1/query_range', queryRange);
  app.post('/loki/api/v1/query_range', queryRange);
  app.get('/loki/api/v1/query', instantQuery);
  app.post('/loki/api/v1/query', instantQuery);
}
