import { describe, expect, it } from 'vitest';
import type { Entry } from '../chunk/entry.js';
import type { BlockRuns } from '../chunk/reader.js';
import { type ChunkSource, mergeChunks } from './merge-chunks.js';

/** All of one sorted list as a single run. */
function oneRun(entries: Entry[]): BlockRuns {
  let done = false;
  return { next: () => (done ? undefined : ((done = true), entries)) };
}

const e = (t: number, line = `l${t}`): Entry => ({ timestamp: BigInt(t), line, structuredMetadata: [] });

/** A chunk over the entries, counting how often it is loaded. */
function chunk(entries: Entry[], loads: { n: number }): ChunkSource {
  return { minTs: entries[0]!.timestamp, maxTs: entries[entries.length - 1]!.timestamp, remote: true, load: async () => (loads.n++, oneRun(entries)) };
}

async function walk(sources: ChunkSource[], direction: 'forward' | 'backward', stopAfter = Infinity) {
  const seen: string[] = [];
  await mergeChunks(sources, direction, (x) => (seen.push(`${x.timestamp}:${x.line}`), seen.length < stopAfter));
  return seen;
}

/** A chunk read block by block: runs in time order, reversed for a backward walk. */
function blocks(runs: Entry[][]): ChunkSource {
  const all = runs.flat();
  return {
    minTs: all[0]!.timestamp,
    maxTs: all[all.length - 1]!.timestamp,
    remote: true,
    load: async (backward) => {
      const order = backward ? [...runs].reverse() : runs;
      let i = 0;
      return { next: () => order[i++] };
    },
  };
}

describe('mergeChunks', () => {
  it('walks a chunk block by block, merged with an overlapping chunk, either way', async () => {
    const a = blocks([[e(1), e(3)], [], [e(5), e(7)]]);
    const b = chunk([e(2), e(6)], { n: 0 });
    expect(await walk([a, b], 'forward')).toEqual(['1:l1', '2:l2', '3:l3', '5:l5', '6:l6', '7:l7']);
    expect(await walk([a, b], 'backward')).toEqual(['7:l7', '6:l6', '5:l5', '3:l3', '2:l2', '1:l1']);
  });

  it('merges overlapping chunks in order, either way, and drops same-timestamp same-line copies', async () => {
    const loads = { n: 0 };
    const a = chunk([e(1), e(4), e(6, 'x'), e(9)], loads);
    const b = chunk([e(2), e(4), e(6, 'y'), e(7)], loads); // 4:l4 is a copy; 6 has two different lines
    const c = chunk([e(10), e(11)], loads);
    expect(await walk([c, b, a], 'forward')).toEqual(['1:l1', '2:l2', '4:l4', '6:x', '6:y', '7:l7', '9:l9', '10:l10', '11:l11']);
    expect(await walk([a, b, c], 'backward')).toEqual(['11:l11', '10:l10', '9:l9', '7:l7', '6:x', '6:y', '4:l4', '2:l2', '1:l1']);
  });

  it('drops copies wherever they are: across blocks, at chunk edges, from three sources; a limit counts lines once', async () => {
    // a flushed chunk (two blocks), a replayed copy of part of it in memory, and a later chunk starting at its end
    const stored = blocks([
      [e(1), e(3)],
      [e(3, 'y'), e(5)],
    ]);
    const replayed = chunk([e(3), e(3, 'y'), e(5)], { n: 0 });
    const later = chunk([e(5), e(5, 'z'), e(7)], { n: 0 });
    const all = ['1:l1', '3:l3', '3:y', '5:l5', '5:z', '7:l7'];
    expect(await walk([later, replayed, stored], 'forward')).toEqual(all);
    expect(await walk([stored, replayed, later], 'backward')).toEqual([...all].reverse());
    expect(await walk([stored, replayed, later], 'forward', 4)).toEqual(all.slice(0, 4));
    expect(await walk([stored, replayed, later], 'backward', 3)).toEqual(['7:l7', '5:z', '5:l5']);
  });

  it("stops reading chunks once the visitor has had enough (a log query's limit)", async () => {
    const loads = { n: 0 };
    const chunks = Array.from({ length: 20 }, (_, i) => chunk([e(i * 10), e(i * 10 + 5)], loads));
    expect(await walk(chunks, 'backward', 3)).toEqual(['195:l195', '190:l190', '185:l185']);
    // The two newest chunks, plus at most the prefetched ones: never the whole range.
    expect(loads.n).toBeLessThanOrEqual(2 + 4);
  });
});
