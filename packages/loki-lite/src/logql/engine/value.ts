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
