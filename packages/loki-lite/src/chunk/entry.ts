import type { Label } from '@loki-lite/shared';

/** A stored log entry. Lines and metadata are immutable once appended. */
export interface Entry {
  readonly timestamp: bigint;
  readonly line: string;
  readonly structuredMetadata: readonly Label[];
}

/** Orders entries by timestamp; equal timestamps compare 0, so a stable sort keeps their order. */
export const byTimestamp = (a: Entry, b: Entry) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0);
