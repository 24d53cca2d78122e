import type { Labels } from '@loki-lite/shared';

/** One sample of an instant vector. `key` identifies the label set for matching. */
export interface Sample {
  readonly labels: Labels;
  readonly key: string;
  readonly value: number;
}

export type InstantValue = { readonly kind: 'scalar'; readonly value: number } | { readonly kind: 'vector'; readonly samples: readonly Sample[] };

export interface Evaluator {
  /** The value at `ts`; calls come with increasing `ts`. */
  at(ts: bigint): InstantValue;
}

/** Receives samples as the querier reads them: a series number for each new label set, then its lines. */
export interface SampleSink {
  series(labels: Labels): number;
  sample(series: number, ts: bigint, bytes: number, value: number): void;
}

/**
 * A float as Go's strconv.FormatFloat(v, 'f', -1, 64) prints it, which is how Loki writes sample values:
 * the shortest digits that read back exactly, never in exponent form; NaN, +Inf, -Inf.
 */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // JavaScript switches to exponent form below 1e-6 and from 1e21; expand the shortest digits instead.
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e).replace('.', '');
  const intDigits = (s.slice(negative ? 1 : 0, e).split('.')[0] ?? '').length;
  const point = intDigits + Number(s.slice(e + 1));
  const digits = point <= 0 ? '0.' + '0'.repeat(-point) + mantissa : point >= mantissa.length ? mantissa + '0'.repeat(point - mantissa.length) : mantissa.slice(0, point) + '.' + mantissa.slice(point);
  return (negative ? '-' : '') + digits;
}
