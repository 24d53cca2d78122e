import { describe, expect, it } from 'vitest';
import { lineHash, SampleListBuilder, SampleListCursor, sampleListWithin, type StreamSampleList } from './sample-lists.js';

/** {app="a"}'s samples at the given times, each line `line <t>`, in series {level="x"}. */
function listAt(times: number[]): StreamSampleList {
  const b = new SampleListBuilder([{ name: 'app', value: 'a' }], '{app="a"}');
  for (const t of times) b.add(7, [{ name: 'level', value: 'x' }], BigInt(t), 0, t, `line ${t}`);
  return b.build();
}

describe('an ingester sample list', () => {
  it('hashes lines apart by content and length, the same on both sides', () => {
    expect(lineHash('line 1')).toBe(lineHash('line 1'));
    expect(new Set(['line 1', 'line 2', 'line 1 ', '', 'ünï'].map(lineHash)).size).toBe(5);
  });

  it('goes between the stored lines in time order and recognises a stored line it holds', () => {
    const emitted: number[] = [];
    const cursor = new SampleListCursor(listAt([1, 3, 3, 5]), (_, ts, __, value) => emitted.push(Number(ts) * 10 + (value === Number(ts) ? 0 : 1)));
    const stored: Array<[number, string]> = [
      [2, 'line 2'],
      [3, 'line 3'],
      [3, 'other'],
      [6, 'line 6'],
    ];
    const kept: number[] = [];
    for (const [t, line] of stored) {
      cursor.emitBefore(BigInt(t));
      if (!cursor.has(BigInt(t), line)) kept.push(t);
      emitted.push(-t);
    }
    cursor.emitRest();
    expect(kept).toEqual([2, 3, 6]); // 'line 3' at 3 is the ingester's; 'other' at 3 is not
    expect(emitted).toEqual([10, -2, -3, -3, 30, 30, 50, -6]);
  });

  it('keeps the samples of a time range [lo, hi), series and all', () => {
    const list = listAt([1, 2, 3, 4]);
    const part = sampleListWithin(list, 2n, 4n)!;
    expect([...part.timestamps]).toEqual([2n, 3n]);
    expect([...part.hashes]).toEqual([lineHash('line 2'), lineHash('line 3')]);
    expect(part.series).toEqual([[{ name: 'level', value: 'x' }]]);
    expect(sampleListWithin(list, 0n, 10n)).toBe(list);
    expect(sampleListWithin(list, 5n, 10n)).toBeUndefined();
  });
});
