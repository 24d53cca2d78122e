import { describe, expect, it } from 'vitest';
import { EntryBatch, EntryColumns } from './entry-batch.js';
import { NO_METADATA } from '../labels/labels.js';

describe('EntryColumns and EntryBatch', () => {
  it('keep each stream of a request as its own window of shared columns, across growth', () => {
    const buf = Buffer.from('abcdefghij');
    const columns = new EntryColumns(buf, 2);
    const a = new EntryBatch(columns, 0, 0);
    for (let i = 0; i < 3; i++) columns.add(100 + i, i, i, i + 1, NO_METADATA);
    const first = new EntryBatch(columns, 0, 3);
    // the second stream's entries make the columns grow twice, and only the fourth has metadata
    for (let i = 3; i < 9; i++) columns.add(100 + i, i, i, i + 1, i === 3 ? [{ name: 'k', value: 'v' }] : NO_METADATA);
    const second = new EntryBatch(columns, 3, 6);
    expect(a.count).toBe(0);
    expect(first.toEntries().map((e) => [e.timestamp, e.line])).toEqual([
      [100_000_000_000n, 'a'],
      [101_000_000_001n, 'b'],
      [102_000_000_002n, 'c'],
    ]);
    expect(
      second
        .toEntries()
        .map((e) => e.line)
        .join(''),
    ).toBe('defghi');
    expect(first.structuredMetadata(2)).toEqual([]);
    expect(second.structuredMetadata(0)).toEqual([{ name: 'k', value: 'v' }]);
    expect(second.structuredMetadata(1)).toEqual([]);
    expect(
      second
        .select([5, 0])
        .toEntries()
        .map((e) => [e.timestamp, e.line]),
    ).toEqual([
      [108_000_000_008n, 'i'],
      [103_000_000_003n, 'd'],
    ]);
  });

  it('carry nanoseconds outside [0, 1e9) into the seconds, as a Timestamp means them', () => {
    const columns = new EntryColumns(Buffer.alloc(0));
    columns.add(10, 1_500_000_000, 0, 0, NO_METADATA);
    columns.add(10, -1, 0, 0, NO_METADATA);
    const batch = new EntryBatch(columns, 0, 2);
    expect([batch.timestamp(0), batch.timestamp(1)]).toEqual([11_500_000_000n, 9_999_999_999n]);
    expect([columns.seconds[1], columns.nanos[1]]).toEqual([9, 999_999_999]);
  });

  it('round-trip entries, before 1970 too, and cut a line in place', () => {
    const entries = [
      { timestamp: -1n, line: 'before', structuredMetadata: NO_METADATA },
      { timestamp: 1_764_547_200_123_456_789n, line: 'after', structuredMetadata: NO_METADATA },
    ];
    const batch = EntryBatch.fromEntries(entries);
    expect(batch.toEntries()).toEqual(entries);
    batch.truncateLine(1, 2);
    expect(batch.line(1)).toBe('af');
  });
});
