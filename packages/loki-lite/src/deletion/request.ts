import { formatGoDuration, type LabelMatcher, LokiError, parseGoDuration, parseRFC3339 } from '@loki-lite/shared';
import { compilePipeline, type Pipeline } from '../logql/log/pipeline.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import { parseQuery } from '../logql/syntax/parser.js';

/*
 * A delete request as Loki's compactor keeps it (pkg/compactor/deletion): a log selector with optional
 * pipeline stages, a time range in milliseconds (both ends inclusive), and its status. A request with line
 * filters over a long range is cut into pieces ("shards" in Loki) that share its id, one per
 * compactor.delete_max_interval; each piece is processed on its own.
 */

export type DeleteRequestStatus = 'received' | 'processed';

/** One piece of a delete request; a request not cut is one piece with seq 0. */
export interface DeleteRequest {
  readonly tenant: string;
  readonly requestId: string;
  readonly seq: number;
  readonly query: string;
  /** Unix ms, inclusive. */
  readonly startMs: number;
  /** Unix ms, inclusive. */
  readonly endMs: number;
  /** Unix ms. */
  readonly createdAtMs: number;
  readonly status: DeleteRequestStatus;
}

const MS = 1_000_000n;
const SECOND_NS = 1_000_000_000n;

/** A delete API request refused, with Loki's text. */
export const badDeleteRequest = (message: string) => new LokiError('bad_data', 'bad_delete_request', message);

/**
 * Loki's parseDeletionQuery: a log selector (with any pipeline stages), validated as queries are, its
 * pipeline compiled once so that a bad regex is refused now rather than at every query.
 */
export function parseDeleteQuery(query: string): LogSelectorExpr {
  try {
    const expr = parseQuery(query);
    if (expr.kind !== 'log_selector') throw new Error('only log selector is supported');
    compilePipeline(expr.pipeline);
    return expr;
  } catch (e) {
    throw badDeleteRequest(`invalid query expression: ${(e as Error).message}`);
  }
}

/**
 * Loki's HasFilter: whether the query can keep some lines of a stream and not others. Without one, a
 * request removes every line of a matching stream in its range, and whole chunks can go.
 */
export function hasLineFilter(expr: LogSelectorExpr): boolean {
  return expr.pipeline.some((s) => s.kind === 'line_filter' || s.kind === 'label_filter');
}

/** A delete request's query compiled for deciding line by line: what the querier and the compactor both ask. */
export interface CompiledDeleteQuery {
  readonly matchers: readonly LabelMatcher[];
  /**
   * The pipeline that decides which lines of a matching stream go, or undefined when the query has no line
   * or label filter (Loki's HasFilter): then every line in range goes, and stages such as `| json` need
   * not run on each one only to keep it.
   */
  readonly pipeline: Pipeline | undefined;
}

export function compileDeleteQuery(query: string): CompiledDeleteQuery {
  const expr = parseDeleteQuery(query);
  return { matchers: expr.matchers, pipeline: hasLineFilter(expr) ? compilePipeline(expr.pipeline) : undefined };
}

/** The parameters of POST /loki/api/v1/delete, as given (null when absent). */
export interface DeleteParams {
  readonly query: string | null;
  readonly start: string | null;
  readonly end: string | null;
  readonly maxInterval: string | null;
}

/** A validated new request: its query and the time range of each piece, in ms. */
export interface NewDeleteRequest {
  readonly query: string;
  readonly pieces: ReadonlyArray<{ startMs: number; endMs: number }>;
  /** The piece length (0: not cut), for the log line. */
  readonly intervalNs: bigint;
}

/**
 * Checks a new request's parameters in Loki's order and with its texts (request_handler.go), and cuts it
 * into pieces. `nowMs` is the default end and the limit no end may pass; `maxIntervalNs` is
 * compactor.delete_max_interval (0: no limit).
 */
export function newDeleteRequest(params: DeleteParams, nowMs: number, maxIntervalNs: bigint): NewDeleteRequest {
  if (!params.query) throw badDeleteRequest('query not set');
  const expr = parseDeleteQuery(params.query);
  if (!params.start) throw badDeleteRequest('start time not set');
  const start = parseDeleteTime(params.start, nowMs);
  if (start === undefined) throw badDeleteRequest('invalid start time: require unix seconds or RFC3339 format');
  const end = parseDeleteTime(params.end ?? '', nowMs);
  if (end === undefined) throw badDeleteRequest('invalid end time: require unix seconds or RFC3339 format');
  if (end > nowMs) throw badDeleteRequest('deletes in the future are not allowed');
  if (start > end) throw badDeleteRequest("start time can't be greater than end time");
  // Only requests with line filters are cut: without one, the compactor drops whole chunks anyway.
  const span = BigInt(end - start) * MS;
  let interval = hasLineFilter(expr) ? pieceInterval(params.maxInterval, span, maxIntervalNs) : 0n;
  if (interval === 0n || interval >= span) interval = 0n;
  const pieces = interval === 0n ? [{ startMs: start, endMs: end }] : cutByInterval(start, end, interval);
  return { query: params.query, pieces, intervalNs: interval };
}

/** The piece length of a request with line filters (Loki's DeleteRequestHandler.interval). */
function pieceInterval(raw: string | null, span: bigint, maxIntervalNs: bigint): bigint {
  if (!raw) {
    if (span < SECOND_NS) throw badDeleteRequest('difference between start time and end time must be at least one second');
    return maxIntervalNs === 0n || span < maxIntervalNs ? span : maxIntervalNs;
  }
  const interval = parseGoDuration(raw);
  if (interval === undefined || interval < SECOND_NS) throw badDeleteRequest("invalid max_interval: valid time units are 's', 'm', 'h'");
  if (maxIntervalNs !== 0n && interval > maxIntervalNs) throw badDeleteRequest(`max_interval can't be greater than ${formatGoDuration(maxIntervalNs)}`);
  if (interval > span) throw badDeleteRequest(`max_interval can't be greater than the interval to be deleted (${formatGoDuration(span)})`);
  return interval;
}

/**
 * Loki's util.ForInterval with an exclusive end: pieces aligned to multiples of the interval, but the first
 * starting at `start` and the last ending at `end`; neighbours share their boundary millisecond, so no line
 * between two pieces escapes.
 */
function cutByInterval(startMs: number, endMs: number, intervalNs: bigint): Array<{ startMs: number; endMs: number }> {
  const interval = Number(intervalNs / MS);
  const pieces: Array<{ startMs: number; endMs: number }> = [];
  for (let from = startMs - (startMs % interval); from < endMs; from += interval) {
    pieces.push({ startMs: pieces.length === 0 ? startMs : from, endMs: Math.min(from + interval, endMs) });
  }
  return pieces;
}

/**
 * Loki's parseTime for deletes: empty is now, else RFC3339, else exactly ten characters of unix seconds
 * (a fraction allowed); in ms, truncated as Go's UnixMilli truncates. Undefined when it is neither.
 */
function parseDeleteTime(raw: string, nowMs: number): number | undefined {
  if (raw === '') return nowMs;
  const ns = parseRFC3339(raw);
  if (ns !== undefined) return Number(ns / MS);
  if (raw.length !== 10 || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw)) return undefined;
  const seconds = Number(raw);
  const whole = Math.trunc(seconds);
  return whole * 1000 + Math.trunc(Math.round((seconds - whole) * 1000));
}

/**
 * Loki's request id: FNV-1 (32 bit, Go's fnv.New32) over the tenant, the creation time in ns as 8
 * little-endian bytes, and the query; printed as 8 lowercase hex digits.
 */
export function deleteRequestId(tenant: string, nowNs: bigint, query: string): string {
  let hash = 0x811c9dc5;
  const add = (bytes: Uint8Array) => {
    for (const b of bytes) hash = Math.imul(hash, 0x01000193) ^ b;
  };
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(BigInt.asUintN(64, nowNs));
  add(Buffer.from(tenant, 'utf8'));
  add(time);
  add(Buffer.from(query, 'utf8'));
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * Loki's status of a request from its pieces: `received` while none is processed, `processed` when all
 * are, else the share done (`50% Complete`, truncated).
 */
export function requestStatus(pieces: readonly DeleteRequest[]): string {
  const done = pieces.filter((p) => p.status === 'processed').length;
  if (done === 0) return 'received';
  if (done === pieces.length) return 'processed';
  return `${Math.trunc((done / pieces.length) * 100)}% Complete`;
}
