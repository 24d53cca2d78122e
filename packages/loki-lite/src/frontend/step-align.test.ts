import { describe, expect, it } from 'vitest';
import { alignRangeToStep } from './step-align.js';

const S = 1_000_000_000n;
const MS = 1_000_000n;
const T = 1_795_132_800n * S; // 2026-11-20T00:00:00Z; T mod 7 s = 6 s
const config = (align: boolean, split: bigint) => ({ query_range: { align_queries_with_step: align }, limits_config: { split_queries_by_interval: split } });
const DEFAULT = config(false, 1800n * S);

describe('alignRangeToStep (Loki 2.8 splitMetricByTime and StepAlignMiddleware)', () => {
  it('rounds start down and end up to a multiple of the step since the epoch', () => {
    expect(alignRangeToStep(T + 3n * S, T + 60n * S, 7n * S, DEFAULT)).toEqual([T + 1n * S, T + 64n * S, 7n * S]);
  });

  it('rounds a start with nanoseconds down and leaves an end already on the grid', () => {
    expect(alignRangeToStep(T + 123_456_789n, T + 300n * S, 150n * S, DEFAULT)).toEqual([T, T + 300n * S, 150n * S]);
  });

  it('with align_queries_with_step rounds both down, whether or not queries are split', () => {
    expect(alignRangeToStep(T + 3n * S, T + 60n * S, 7n * S, config(true, 1800n * S))).toEqual([T + 1n * S, T + 57n * S, 7n * S]);
    expect(alignRangeToStep(T + 3n * S, T + 60n * S, 7n * S, config(true, 0n))).toEqual([T + 1n * S, T + 57n * S, 7n * S]);
  });

  it('does not align without splitting or align_queries_with_step', () => {
    expect(alignRangeToStep(T + 3n * S, T + 60n * S, 7n * S, config(false, 0n))).toEqual([T + 3n * S, T + 60n * S, 7n * S]);
  });

  it('uses the step in whole milliseconds, as the frontend passes it on', () => {
    expect(alignRangeToStep(T + 3n * S, T + 60n * S, 7n * S + 900_000n, DEFAULT)).toEqual([T + 1n * S, T + 64n * S, 7n * S]);
    expect(alignRangeToStep(T + 1n, T + 2n * MS, 1500n * MS, DEFAULT)).toEqual([T, T + 1500n * MS, 1500n * MS]);
  });

  it('leaves a step under a millisecond as asked', () => {
    expect(alignRangeToStep(T + 3n, T + 60n, 500_000n, DEFAULT)).toEqual([T + 3n, T + 60n, 500_000n]);
  });
});
