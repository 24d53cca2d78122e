import { fingerprint, parseLabels } from '@loki-lite/shared';
import type { SeriesChunks } from '../../index/types.js';
import type { LogStore } from '../log-store.js';

export const DAY = 86_400_000_000_000n;
/** 2025-11-20 00:00 UTC, the start of period 20412. */
export const T0 = 20_412n * DAY;

/** A series with one chunk ref per range (checksums 1000, 1001, ...): equal arguments give equal refs. */
export function series(labels: string, ...ranges: Array<[bigint, bigint]>): SeriesChunks {
  const ls = parseLabels(labels);
  const fp = fingerprint(ls);
  return {
    labels: ls,
    fingerprint: fp,
    chunks: ranges.map(([from, through], i) => ({
      fingerprint: fp,
      from,
      through,
      checksum: 1000 + i,
      size: 10 * (i + 1),
      entries: i + 1,
      lineBytes: 100 * (i + 1),
    })),
  };
}

/** Plans and writes the index files of `series`, as an ingester's index cut does. */
export async function writeIndex(store: LogStore, tenant: string, list: readonly SeriesChunks[]): Promise<void> {
  await Promise.all(store.planIndex(tenant, list).map((f) => store.writeIndexFile(f)));
}
