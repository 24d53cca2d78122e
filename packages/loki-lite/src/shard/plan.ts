import { sampleListWithin } from './sample-lists.js';
import type { ShardStream } from './shard.js';

/*
 * How a query is cut into shards, as Loki's query sharding does: first by stream (each stream wholly in
 * one shard, so the merge of a stream's memory and chunks stays in one place), in runs balanced by the
 * bytes the streams hold; then, when there are fewer streams than shards wanted and the answer allows it,
 * each group by time.
 */

/** The line bytes of a stream's chunks: what reading it costs, roughly. */
function weight(s: ShardStream): number {
  let w = 0;
  for (const c of s.chunks) w += c.lineBytes;
  for (const m of s.memory) {
    for (const b of m.chunk.blocks) w += b.uncompressedLength;
    if (m.chunk.head) w += m.chunk.head.uncompressedLength;
  }
  // A sample the ingester computed is folded, not read: far cheaper than a line (a guess, not measured).
  return w + (s.ingesterSamples?.timestamps.length ?? 0) * 8;
}

/** Whether a stream has anything left to read or fold. */
export function hasData(s: ShardStream): boolean {
  return s.memory.length > 0 || s.chunks.length > 0 || s.ingesterSamples !== undefined;
}

/**
 * The streams (in the order given, which the caller keeps sorted by labels) in at most `shards` runs of
 * about equal weight. Runs keep the order, so shards merged in order see the lines in the order one
 * reader would, and equal timestamps across streams resolve the same however the query is cut.
 */
export function byStream(streams: readonly ShardStream[], shards: number): ShardStream[][] {
  if (streams.length === 0) return [];
  const n = Math.min(shards, streams.length);
  if (n <= 1) return [[...streams]];
  const weights = streams.map(weight);
  const total = weights.reduce((a, b) => a + b, 0);
  const groups: ShardStream[][] = [[]];
  let sum = 0;
  streams.forEach((s, i) => {
    groups[groups.length - 1]!.push(s);
    sum += weights[i]!;
    // Cut where the running weight passes the next n-th of the total, leaving a stream for every group.
    const last = i === streams.length - 1;
    if (!last && groups.length < n && sum >= (total * groups.length) / n) groups.push([]);
  });
  return groups;
}

/**
 * Stream groups as byStream, each cut into time ranges of [from, through) when there are fewer groups
 * than `shards`; a range keeps only the chunks that overlap it (chunk and snapshot times are inclusive).
 * A cut never falls inside a stored chunk (it moves back to the chunk's start), so no chunk is fetched
 * for two ranges; chunks in memory are shared and cut anywhere.
 */
export function byStreamAndTime(
  streams: readonly ShardStream[],
  shards: number,
  from: bigint,
  through: bigint,
): Array<{ streams: ShardStream[]; from: bigint; through: bigint }> {
  const groups = byStream(streams, shards);
  const pieces = groups.length === 0 ? 1 : Math.ceil(shards / groups.length);
  const out: Array<{ streams: ShardStream[]; from: bigint; through: bigint }> = [];
  for (const group of groups) {
    const bounds = [from, ...cuts(group, pieces, from, through), through];
    for (let p = 0; p + 1 < bounds.length; p++) {
      const [lo, hi] = [bounds[p]!, bounds[p + 1]!];
      const inRange = group.map((s) => within(s, lo, hi)).filter(hasData);
      if (inRange.length > 0) out.push({ streams: inRange, from: lo, through: hi });
    }
  }
  return out;
}

/** Up to pieces - 1 times in (from, through) that split the group's range evenly, none inside a stored chunk. */
function cuts(group: readonly ShardStream[], pieces: number, from: bigint, through: bigint): bigint[] {
  const span = through - from;
  if (pieces <= 1 || span < BigInt(pieces)) return [];
  const stored = group.flatMap((s) => s.chunks);
  const out = new Set<bigint>();
  for (let k = 1; k < pieces; k++) {
    let at = from + (span * BigInt(k)) / BigInt(pieces);
    for (let inside = stored.find((c) => c.from < at && at <= c.through); inside; inside = stored.find((c) => c.from < at && at <= c.through)) at = inside.from;
    if (at > from) out.add(at);
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
/** The stream with only its chunks and ingester samples that hold time in [lo, hi). */
function within(s: ShardStream, lo: bigint, hi: bigint): ShardStream {
  const { ingesterSamples, ...rest } = s;
  const samples = ingesterSamples && sampleListWithin(ingesterSamples, lo, hi);
  return {
    ...rest,
    memory: s.memory.filter((m) => m.maxTs >= lo && m.minTs < hi),
    chunks: s.chunks.filter((c) => c.through >= lo && c.from < hi),
    ...(samples && { ingesterSamples: samples }),
  };
}
