import type { ShardStream } from './shard.js';

/*
 * How a query is cut into shards, as Loki's query sharding does: first by stream (each stream wholly in
 * one shard, so the merge of a stream's memory and chunks stays in one place), balanced by the bytes the
 * streams hold; then, when there are fewer streams than shards wanted and the answer allows it, each group
 * by time.
 */

/** The line bytes of a stream's chunks: what reading it costs, roughly. */
function weight(s: ShardStream): number {
  let w = 0;
  for (const c of s.chunks) w += c.lineBytes;
  for (const m of s.memory) {
    for (const b of m.chunk.blocks) w += b.uncompressedLength;
    if (m.chunk.head) w += m.chunk.head.uncompressedLength;
  }
  return w;
}

/**
 * The streams in at most `shards` groups of about equal weight (heaviest first into the lightest group),
 * each group keeping the streams' order.
 */
export function byStream(streams: readonly ShardStream[], shards: number): ShardStream[][] {
  if (streams.length === 0) return [];
  const n = Math.min(shards, streams.length);
  if (n <= 1) return [[...streams]];
  const weights = streams.map(weight);
  const order = streams.map((_, i) => i).sort((a, b) => weights[b]! - weights[a]! || a - b);
  const groups = Array.from({ length: n }, () => ({ weight: 0, members: [] as number[] }));
  for (const i of order) {
    let lightest = groups[0]!;
    for (const g of groups) if (g.weight < lightest.weight) lightest = g;
    lightest.weight += weights[i]!;
    lightest.members.push(i);
  }
  return groups.map((g) => g.members.sort((a, b) => a - b).map((i) => streams[i]!));
}

/**
 * Stream groups as byStream, each cut into time ranges of [from, through) when there are fewer groups
 * than `shards`; a range keeps only the chunks that overlap it (chunk and snapshot times are inclusive).
 */
export function byStreamAndTime(
  streams: readonly ShardStream[], shards: number, from: bigint, through: bigint,
): Array<{ streams: ShardStream[]; from: bigint; through: bigint }> {
  const groups = byStream(streams, shards);
  const pieces = groups.length === 0 ? 1 : Math.ceil(shards / groups.length);
  const span = through - from;
  if (pieces <= 1 || span < BigInt(pieces)) return groups.map((g) => ({ streams: g, from, through }));
  const out: Array<{ streams: ShardStream[]; from: bigint; through: bigint }> = [];
  for (const group of groups) {
    for (let p = 0; p < pieces; p++) {
      const lo = from + (span * BigInt(p)) / BigInt(pieces);
      const hi = p === pieces - 1 ? through : from + (span * BigInt(p + 1)) / BigInt(pieces);
      const inRange = group.map((s) => within(s, lo, hi)).filter((s) => s.memory.length > 0 || s.chunks.length > 0);
      if (inRange.length > 0) out.push({ streams: inRange, from: lo, through: hi });
    }
  }
  return out;
}

/** The stream with only its chunks that hold time in [lo, hi). */
function within(s: ShardStream, lo: bigint, hi: bigint): ShardStream {
  return {
    labels: s.labels,
    memory: s.memory.filter((m) => m.maxTs >= lo && m.minTs < hi),
    chunks: s.chunks.filter((c) => c.through >= lo && c.from < hi),
  };
}
