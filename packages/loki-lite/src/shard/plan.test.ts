import { describe, expect, it } from 'vitest';
import type { ChunkRef } from '../index/types.js';
import type { ShardStream } from './shard.js';
import { byStream, byStreamAndTime } from './plan.js';

const ref = (from: bigint, through: bigint, lineBytes: number): ChunkRef => ({ fingerprint: 'f', from, through, checksum: 0, size: 0, lineBytes, entries: 1 });
const stream = (name: string, ...chunks: ChunkRef[]): ShardStream => ({ labels: [{ name: 'pod', value: name }], memory: [], chunks });
const names = (groups: ShardStream[][]) => groups.map((g) => g.map((s) => s.labels[0]!.value));

describe('shard plan', () => {
  it('puts the streams in runs of about equal bytes, in their order', () => {
    const streams = [stream('a', ref(0n, 9n, 100)), stream('b', ref(0n, 9n, 10)), stream('c', ref(0n, 9n, 60)), stream('d', ref(0n, 9n, 50))];
    const groups = byStream(streams, 2);
    expect(names(groups)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]); // 110 bytes each
    expect(byStream(streams, 1)).toEqual([streams]);
    expect(names(byStream(streams, 9)).flat().sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(byStream([], 4)).toEqual([]);
  });

  it('cuts groups by time when there are fewer streams than shards, keeping only the chunks of each range', () => {
    const s = stream('a', ref(0n, 49n, 1), ref(50n, 99n, 1));
    const shards = byStreamAndTime([s], 4, 0n, 100n);
    // Cuts inside a stored chunk move back to its start: each chunk is read by one range.
    expect(shards.map((x) => [x.from, x.through])).toEqual([
      [0n, 50n],
      [50n, 100n],
    ]);
    expect(shards.map((x) => x.streams[0]!.chunks.map((c) => c.from))).toEqual([[0n], [50n]]);
    // Ranges without a chunk of the stream are left out.
    expect(byStreamAndTime([stream('b', ref(80n, 90n, 1))], 4, 0n, 100n).map((x) => [x.from, x.through])).toEqual([[75n, 100n]]);
    // Chunks in memory are cut anywhere.
    const inMemory: ShardStream = { labels: [], memory: [{ minTs: 0n, maxTs: 99n, chunk: { encoding: 'snappy', blocks: [], head: undefined } }], chunks: [] };
    expect(byStreamAndTime([inMemory], 4, 0n, 100n).map((x) => [x.from, x.through])).toEqual([
      [0n, 25n],
      [25n, 50n],
      [50n, 75n],
      [75n, 100n],
    ]);
    // Enough streams: no time cut.
    expect(byStreamAndTime([s, stream('b', ref(0n, 99n, 1))], 2, 0n, 100n).map((x) => [x.from, x.through])).toEqual([
      [0n, 100n],
      [0n, 100n],
    ]);
  });
});
