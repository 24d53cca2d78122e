import websocket from '@fastify/websocket';
import { LokiError, nowNanos } from '@loki-lite/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import { parseQuery } from '../logql/syntax/parser.js';
import type { Querier } from '../querier/querier.js';
import type { StreamResult } from '../shard/types.js';
import { requestParams, tenantOf } from './app.js';
import { limitParam, timestampParam } from './params.js';
import { newQueryStats } from '../shard/types.js';
import type { Limits } from '../limits/limits.js';

/** How often a tail looks for new lines. Loki's ingesters push as lines arrive; once a second is what a human watching sees. */
const POLL_MS = 1000;
/** Loki's cap on delay_for (seconds). */
const MAX_DELAY_FOR_SECONDS = 5;
/** Lines per poll after the first answer; a burst beyond this arrives over the following polls. */
const LIVE_BATCH = 5000;

interface TailRequest {
  readonly tenant: string;
  readonly selector: LogSelectorExpr;
  readonly delayNs: bigint;
  readonly limit: number;
  readonly start: bigint;
}

const HOUR_NS = 3_600_000_000_000n;

const bad = (message: string) => new LokiError('bad_data', 'bad_request', message);

/** Reads and checks the parameters before the WebSocket upgrade, so a bad request gets Loki's 400. */
function tailRequest(req: FastifyRequest, config: Config): TailRequest {
  const params = requestParams(req);
  const expr = parseQuery(params.get('query') ?? '');
  if (expr.kind !== 'log_selector') throw bad('tail only supports log queries');
  const delayText = params.get('delay_for') ?? '0';
  const delaySeconds = Number(delayText);
  if (!Number.isFinite(delaySeconds) || delaySeconds < 0) throw bad(`invalid delay_for: ${delayText}`);
  if (delaySeconds > MAX_DELAY_FOR_SECONDS) throw bad(`delay_for can't be greater than ${MAX_DELAY_FOR_SECONDS}`);
  const now = nowNanos();
  return {
    tenant: tenantOf(req, config),
    selector: expr,
    delayNs: BigInt(Math.round(delaySeconds * 1e9)),
    limit: limitParam(params, 100),
    start: timestampParam(params, 'start', now - HOUR_NS),
  };
}

function frame(streams: readonly StreamResult[]): string {
  return JSON.stringify({
    streams: streams.map((s) => ({
      stream: Object.fromEntries(s.labels.map((l) => [l.name, l.value])),
      values: s.entries.map((e) => [e.timestamp.toString(), e.line]),
    })),
  });
}

/**
 * /loki/api/v1/tail over WebSocket, as Grafana's live tail uses it: first up to `limit` lines from `start`,
 * then every new line as it is stored (minus `delay_for`), each message `{"streams": [...]}`. Lines already
 * sent are not sent again when later ones share their timestamp.
 */
export function registerTailRoutes(app: FastifyInstance, config: Config, querier: Querier, limits: Limits): void {
  void app.register(async (scope) => {
    await scope.register(websocket);
    const requests = new WeakMap<FastifyRequest, TailRequest>();
    /** Open tails by tenant, for the tenant's max_concurrent_tail_requests. */
    const open = new Map<string, number>();
    scope.get(
      '/loki/api/v1/tail',
      {
        websocket: true,
        preValidation: async (req) => {
          requests.set(req, tailRequest(req, config));
        },
      },
      (socket, req) => {
        const tail = requests.get(req)!;
        const count = open.get(tail.tenant) ?? 0;
        const limit = limits.forTenant(tail.tenant).max_concurrent_tail_requests;
        if (count >= limit) {
          // As Loki: the upgrade is accepted, then closed with the querier's error (a gRPC status text).
          socket.close(1011, `rpc error: code = Code(400) desc = max concurrent tail requests limit exceeded, count > limit (${count + 1} > ${limit})`);
          return;
        }
        open.set(tail.tenant, count + 1);
        let from = tail.start;
        let sentAtFrom = new Set<string>();
        let first = true;
        let busy = false;
        const poll = async () => {
          if (busy) return;
          busy = true;
          try {
            const through = nowNanos() - tail.delayNs + 1n;
            if (through <= from) return;
            const streams = await querier.selectLogs(
              tail.tenant,
              {
                selector: tail.selector,
                from,
                through,
                direction: 'forward',
                limit: first ? tail.limit : LIVE_BATCH,
              },
              newQueryStats(),
            );
            first = false;
            let newest = from;
            for (const s of streams) for (const e of s.entries) if (e.timestamp > newest) newest = e.timestamp;
            const fresh = streams
              .map((s) => ({ labels: s.labels, entries: s.entries.filter((e) => e.timestamp !== from || !sentAtFrom.has(e.line)) }))
              .filter((s) => s.entries.length > 0);
            if (fresh.length === 0) return;
            const atNewest = new Set<string>(newest === from ? sentAtFrom : []);
            for (const s of fresh) for (const e of s.entries) if (e.timestamp === newest) atNewest.add(e.line);
            from = newest;
            sentAtFrom = atNewest;
            socket.send(frame(fresh));
          } catch (e) {
            socket.close(1011, (e as Error).message.slice(0, 120));
          } finally {
            busy = false;
          }
        };
        void poll();
        const timer = setInterval(() => void poll(), POLL_MS);
        socket.on('close', () => {
          clearInterval(timer);
          const left = open.get(tail.tenant)! - 1;
          if (left === 0) open.delete(tail.tenant);
          else open.set(tail.tenant, left);
        });
      },
    );
  });
}
