import { LokiError, nowNanos, parsePromDuration, parseQueryTimestamp, TimestampParseError } from '@loki-lite/shared';
import type { Direction } from '../iter/direction.js';

/*
 * Request parameters as Loki's loghttp package reads them, from the query string and (for POST) a form body.
 */

export type Params = URLSearchParams;

const bad = (message: string) => new LokiError('bad_data', 'bad_param', message);

export function timestampParam(params: Params, name: string, fallback: bigint): bigint {
  try {
    return parseQueryTimestamp(params.get(name) ?? undefined, fallback);
  } catch (e) {
    if (e instanceof TimestampParseError) throw bad(`invalid ${name}: ${e.message}`);
    throw e;
  }
}

const HOUR = 3_600_000_000_000n;

/**
 * start/end/since: end defaults to now, start to end minus `since` (itself defaulting to `defaultSince`).
 */
export function timeRange(params: Params, defaultSince: bigint): { start: bigint; end: bigint } {
  const now = nowNanos();
  const end = timestampParam(params, 'end', now);
  let since = defaultSince;
  const sinceParam = params.get('since');
  if (sinceParam) {
    const d = parsePromDuration(sinceParam);
    if (d === undefined) throw bad(`invalid since: cannot parse "${sinceParam}" to a valid duration`);
    since = d;
  }
  const start = timestampParam(params, 'start', end - since);
  return { start, end };
}

export const QUERY_RANGE_DEFAULT_SINCE = HOUR;
export const METADATA_DEFAULT_SINCE = 6n * HOUR;

export function limitParam(params: Params, fallback: number): number {
  const raw = params.get('limit');
  if (raw === null || raw === '') return fallback;
  if (!/^[+-]?\d+$/.test(raw)) throw bad(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
  const n = Number(raw);
  if (n <= 0) throw bad('limit must be a positive value');
  return n;
}

export function directionParam(params: Params): Direction {
  const raw = params.get('direction');
  if (raw === null || raw === '') return 'backward';
  const d = raw.toLowerCase();
  if (d !== 'forward' && d !== 'backward') throw bad(`invalid direction '${raw}'`);
  return d;
}

const SECOND = 1_000_000_000n;
const MAX_POINTS = 11_000n;

/**
 * A range query's step as Loki reads it: float seconds or a duration (`15000ms`); by default
 * max(floor(range / 250 s), 1 s). Refuses steps that are not positive or give more than 11,000 points.
 */
export function stepParam(params: Params, start: bigint, end: bigint): bigint {
  const raw = params.get('step');
  let step: bigint;
  if (raw === null || raw === '') {
    const seconds = (end - start) / SECOND / 250n;
    step = (seconds > 1n ? seconds : 1n) * SECOND;
  } else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) {
    // Loki's parseSecondsOrDuration: a float64 overflow (1e400) is no number, hence no duration either.
    const seconds = Number(raw);
    if (!Number.isFinite(seconds)) throw bad(`invalid step: cannot parse "${raw}" to a valid duration`);
    if (Math.abs(seconds * 1e9) >= 2 ** 63) throw bad(`invalid step: cannot parse "${raw}" to a valid duration. It overflows int64`);
    step = BigInt(Math.round(seconds * 1e9));
  } else {
    const d = parsePromDuration(raw);
    if (d === undefined) throw bad(`invalid step: cannot parse "${raw}" to a valid duration`);
    step = d;
  }
  if (step <= 0n) throw bad('zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((end - start) / step > MAX_POINTS)
    throw bad('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  return step;
}
