import type { Label } from '@loki-lite/shared';

/** A stored log entry. Lines and metadata are immutable once appended. */
export interface Entry {
  readonly timestamp: bigint;
  readonly line: string;
  readonly structuredMetadata: readonly Label[];
}
