import { type LabelMatcher, type LabelMatcherData, newLabelMatcher } from '@loki-lite/shared';
import type { MemoryStreamChunks, MemoryStreamStats } from '../chunk/snapshot.js';
import type { Stream } from './stream.js';

/*
 * The ingester's side of the querier's reads (querier/ingester-reader.ts, which Ingester implements): the
 * matching streams' chunks or counts, as plain data, so that no live stream leaves the ingester.
 */

/** The seam carries matchers as data; they are compiled here, once per call. */
export function compileMatchers(matchers: readonly LabelMatcherData[]): LabelMatcher[] {
  return matchers.map((m) => newLabelMatcher(m.name, m.type, m.value));
}

/** Each stream with entries in [from, through), with snapshots of those chunks, taken now. */
export function streamChunksOf(streams: Iterable<Stream>, from: bigint, through: bigint): MemoryStreamChunks[] {
  const out: MemoryStreamChunks[] = [];
  for (const s of streams) {
    const chunks = s.chunkSnapshots(from, through);
    if (chunks.length > 0) out.push({ labels: s.labels, labelsString: s.labelsString, chunks });
  }
  return out;
}

/** Each stream with chunks overlapping [from, through], with their counts. */
export function streamStatsOf(streams: Iterable<Stream>, from: bigint, through: bigint): MemoryStreamStats[] {
  const out: MemoryStreamStats[] = [];
  for (const s of streams) {
    const stats = s.chunkStats(from, through);
    if (stats.chunks > 0) out.push({ labels: s.labels, labelsString: s.labelsString, ...stats });
  }
  return out;
}
