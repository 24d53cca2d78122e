import type { Labels } from '@loki-lite/shared';

/** Where a flushed chunk is and what it covers. `through` is the last entry's timestamp (inclusive). */
export interface ChunkRef {
  readonly fingerprint: string;
  readonly from: bigint;
  readonly through: bigint;
  readonly checksum: number;
  readonly size: number;
  /** Bytes of the log lines in the chunk, uncompressed (what index/stats reports as bytes). */
  readonly lineBytes: number;
  readonly entries: number;
}

/** What names a chunk object, with its tenant (storage/keys.ts): a ref without its statistics. */
export type ChunkId = Pick<ChunkRef, 'fingerprint' | 'from' | 'through' | 'checksum'>;

export interface SeriesChunks {
  readonly labels: Labels;
  readonly fingerprint: string;
  readonly chunks: readonly ChunkRef[];
}
