import { describe, expect, it } from 'vitest';
import type { Entry } from '../chunk/entry.js';
import { mergeDedup } from './merge-dedup.js';

const e = (ts: number, line: string): Entry => ({ timestamp: BigInt(ts), line, structuredMetadata: [] });
const lines = (entries: Entry[]) => entries.map((x) => `${x.timestamp}:${x.line}`);

describe('mergeDedup', () => {
  it('merges sorted lists and drops entries with the same timestamp and line, also within one list', () => {
    expect(lines(mergeDedup([[e(1, 'a'), e(1, 'a'), e(2, 'b')]]))).toEqual(['1:a', '2:b']);
    expect(
      lines(
        mergeDedup([
          [e(1, 'a'), e(3, 'c')],
          [e(1, 'a'), e(2, 'b'), e(3, 'c')],
        ]),
      ),
    ).toEqual(['1:a', '2:b', '3:c']);
  });

  it('keeps different lines that share a timestamp, in order', () => {
    expect(lines(mergeDedup([[e(1, 'a'), e(1, 'b'), e(1, 'a'), e(1, 'c')]]))).toEqual(['1:a', '1:b', '1:c']);
    expect(mergeDedup([[], []])).toEqual([]);
  });
});
