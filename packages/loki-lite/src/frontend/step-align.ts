/*
 * The timestamps a metric range query is evaluated at, as Loki 2.8's query frontend (which a single-binary
 * Loki puts in front of its querier) hands the query on. The engine then evaluates at start, start+step, ...
 * up to and including end; these are the start, end and step it is given.
 *
 * Facts from Loki 2.8's pkg/querier/queryrange:
 * - codec.go DecodeRequest keeps the step as whole milliseconds (`Step.Milliseconds()`), and the querier
 *   is sent that step, so a step such as 1.0005s is evaluated as 1s.
 * - roundtrip.go NewMetricTripperware runs queryrangebase.StepAlignMiddleware only when
 *   `query_range.align_queries_with_step` is set; it rounds start and end *down* to a multiple of the step
 *   (in milliseconds since the epoch).
 * - it then always runs SplitByIntervalMiddleware with splitMetricByTime, which, unless the tenant's
 *   `split_queries_by_interval` is 0, rounds start *down* and end *up* to a multiple of the step (in
 *   nanoseconds since the epoch) before cutting the range into intervals whose bounds stay on that grid.
 *   The merged answer is not trimmed back to the range asked for.
 * Multiples are counted from the Unix epoch, and Go's % truncates towards zero as bigint's does.
 */

import type { Config } from '../config/schema.js';

const MILLISECOND = 1_000_000n;

/** The two settings that decide the alignment: query_range.align_queries_with_step, and split_queries_by_interval (0 disables splitting, and with it the rounding). */
export type StepAlignmentConfig = {
  readonly query_range: Pick<Config['query_range'], 'align_queries_with_step'>;
  readonly limits_config: Pick<Config['limits_config'], 'split_queries_by_interval'>;
};

/**
 * A metric range query's start, end and step (nanoseconds) as Loki's frontend passes them to the engine,
 * as a tuple so that a caller can spread it into an (expr, source, start, end, step) evaluation.
 */
export function alignRangeToStep(
  start: bigint,
  end: bigint,
  requestedStep: bigint,
  config: StepAlignmentConfig,
): readonly [start: bigint, end: bigint, step: bigint] {
  const step = requestedStep - (requestedStep % MILLISECOND);
  // A step under 1ms is 0 to Loki's frontend, which then cannot align by it; leave such a query as asked.
  if (step === 0n) return [start, end, requestedStep];
  let alignedStart = start;
  let alignedEnd = end;
  if (config.query_range.align_queries_with_step) {
    alignedStart -= alignedStart % step;
    alignedEnd -= alignedEnd % step;
  }
  if (config.limits_config.split_queries_by_interval > 0n) {
    alignedStart -= alignedStart % step;
    const over = alignedEnd % step;
    if (over !== 0n) alignedEnd += step - over;
  }
  return [alignedStart, alignedEnd, step];
}
