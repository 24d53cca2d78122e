import { formatGoDuration, formatSIBytes, type LogFields } from '@loki-lite/shared';
import type { QueryStats } from '../shard/types.js';

/*
 * The line Loki logs for every range and instant query it answers (pkg/logql/metrics.go), which operators
 * grep for slow or failing queries: the same keys, in the same order, with Go's formats (durations as
 * time.Duration prints them, sizes as go-humanize's SI bytes without the space).
 */

export interface QueryRecord {
  readonly tenant: string;
  readonly query: string;
  readonly kind: 'range' | 'instant';
  /** `metric`, or for a log query `filter` (it has a line filter) or `limited`. */
  readonly queryType: 'metric' | 'filter' | 'limited';
  readonly start: bigint;
  readonly end: bigint;
  readonly step: bigint;
  readonly limit: number;
  /** Why the query failed; undefined when it was answered. */
  readonly error?: unknown;
  readonly execSeconds: number;
  readonly queueSeconds: number;
  readonly stats: QueryStats;
  /** Lines in a log query's answer. */
  readonly returnedLines: number;
}

/** Above this many seconds a query logs `latency=slow` (Loki's slowQueryThresholdSecond). */
const SLOW_SECONDS = 10;

/** The line's fields; `status` is the HTTP status the answer had (200, or the error's). */
export function queryLogFields(r: QueryRecord, status: number): LogFields {
  const throughput = r.execSeconds > 0 ? r.stats.totalBytesProcessed / r.execSeconds : 0;
  return [
    ['org_id', r.tenant],
    ['latency', r.execSeconds > SLOW_SECONDS ? 'slow' : 'fast'],
    ['query', r.query],
    ['query_hash', queryHash(r.query)],
    ['query_type', r.queryType],
    ['range_type', r.kind],
    ['length', formatGoDuration(r.end - r.start)],
    ['step', formatGoDuration(r.step)],
    ['duration', formatGoDuration(secondsToNs(r.execSeconds))],
    ['status', String(status)],
    ['limit', r.limit],
    ['returned_lines', r.returnedLines],
    ['throughput', formatSIBytes(throughput, '')],
    ['total_bytes', formatSIBytes(r.stats.totalBytesProcessed, '')],
    ['total_lines', r.stats.totalLinesProcessed],
    ['total_entries', r.stats.totalEntriesReturned],
    ['queue_time', formatGoDuration(secondsToNs(r.queueSeconds))],
  ];
}

const secondsToNs = (s: number) => BigInt(Math.round(s * 1e9));

/** Loki's HashedQuery: FNV-1 (32 bits) of the query's UTF-8 bytes, to group a query's lines without its text. */
export function queryHash(query: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(query)) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= b;
  }
  return h >>> 0;
}
