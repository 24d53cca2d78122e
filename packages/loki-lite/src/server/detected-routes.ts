import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LokiError } from '@loki-lite/shared';
import type { Config } from '../config/schema.js';
import { parseMatchers } from '../logql/syntax/parser.js';
import { detectedFieldValues, detectFields, detectLabels } from '../querier/detected.js';
import type { MetadataQuerier } from '../querier/metadata.js';
import type { QueryEngine } from '../frontend/query-engine.js';
import type { StreamResult } from '../shard/types.js';
import { requestParams, tenantOf } from './app.js';
import { limitParam, METADATA_DEFAULT_SINCE, timeRange } from './params.js';
import { clientGone } from './query-routes.js';

const json = (reply: FastifyReply, body: unknown) => reply.type('application/json; charset=UTF-8').send(JSON.stringify(body));

/** Logs Drilldown's detected_fields, detected_field/<name>/values and detected_labels. */
export function registerDetectedRoutes(app: FastifyInstance, config: Config, querier: MetadataQuerier, engine: QueryEngine): void {
  /** The newest `line_limit` lines of the query, labels categorized as for Grafana. */
  const sample = async (req: FastifyRequest, reply: FastifyReply): Promise<{ streams: readonly StreamResult[]; limit: number }> => {
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const lineLimit = Number(params.get('line_limit') ?? 1000);
    if (!Number.isInteger(lineLimit) || lineLimit <= 0) throw new LokiError('bad_data', 'bad_request', `invalid line_limit: ${params.get('line_limit')}`);
    const { value: streams } = await engine.logSample({
      tenant: tenantOf(req, config),
      query: params.get('query') ?? '',
      start,
      end,
      lineLimit,
      signal: clientGone(reply),
    });
    return { streams, limit: limitParam(params, 1000) };
  };

  const fields = async (req: FastifyRequest, reply: FastifyReply) => {
    const { streams, limit } = await sample(req, reply);
    return json(reply, { fields: detectFields(streams, limit), limit });
  };

  const fieldValues = async (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const { streams, limit } = await sample(req, reply);
    return json(reply, { values: detectedFieldValues(streams, req.params.name, limit), limit });
  };

  const labels = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = requestParams(req);
    const { start, end } = timeRange(params, METADATA_DEFAULT_SINCE);
    const query = params.get('query') ?? '';
    const series = await querier.series(tenantOf(req, config), query.trim() === '' || query.trim() === '{}' ? [] : [parseMatchers(query)], start, end);
    return json(reply, { detectedLabels: detectLabels(series) });
  };

  for (const [path, handler] of [
    ['/loki/api/v1/detected_fields', fields],
    ['/loki/api/v1/detected_field/:name/values', fieldValues],
    ['/loki/api/v1/detected_labels', labels],
  ] as const) {
    app.get(path, handler as (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>);
  }
}
