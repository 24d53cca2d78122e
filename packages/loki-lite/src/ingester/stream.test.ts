import { EntryBatch, EntryColumns, NO_METADATA } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { HeadMemory } from '../chunk/mem-chunk.js';
import { Stream, type StreamSettings } from './stream.js';

const settings: StreamSettings = {
  headMemory: new HeadMemory(), encoding: 'none', blockSize: 1 << 16, targetSize: 1 << 20,
  // a window of 0.6 s, so the cutoff borrows from the seconds
  maxBehindSeconds: 0, maxBehindNanos: 600_000_000,
  rateLimitBytes: 1 << 30, rateBurstBytes: 1 << 30,
};

/** One batch of entries given as [seconds, nanos, line]. */
function batch(...entries: Array<[number, number, string]>): EntryBatch {
  const buf = Buffer.from(entries.map((e) => e[2]).join(''));
  const columns = new EntryColumns(buf);
  let pos = 0;
  for (const [s, n, line] of entries) columns.add(s, n, pos, (pos += Buffer.byteLength(line)), NO_METADATA);
  return new EntryBatch(columns, 0, columns.count);
}

describe('Stream.push', () => {
  it('refuses entries older than the newest minus the window, to the nanosecond', () => {
    const stream = new Stream([{ name: 'a', value: 'b' }], '{a="b"}', 'fp', settings, 0, () => {});
    expect(stream.push(batch([10, 500_000_000, 'newest']), 0, false).failed).toEqual([]);
    const outcome = stream.push(batch([9, 899_999_999, 'too old'], [9, 900_000_000, 'just in'], [10, 500_000_000, 'newest'], [10, 500_000_000, 'same time']), 0, false);
    expect(outcome.failed.map((f) => [f.timestamp, f.error.message])).toEqual([
      [9_899_999_999n, 'entry too far behind, entry timestamp is: 1970-01-01T00:00:09Z, oldest acceptable timestamp is: 1970-01-01T00:00:09Z'],
    ]);
    // the repeat of the newest entry is dropped silently; the other line at the same time is kept
    expect(outcome.stored).toEqual([1, 3]);
    expect(stream.entriesInRange(0n, 20_000_000_000n).map((e) => e.line)).toEqual(['just in', 'newest', 'same time']);
  });

  it('drops a repeat of the newest entry wherever its line is kept: head, cut block, after later or closed chunks', () => {
    const stream = new Stream([{ name: 'a', value: 'b' }], '{a="b"}', 'fp', settings, 0, () => {});
    const storedOf = (...entries: Array<[number, number, string]>) => stream.push(batch(...entries), 0, false).storedCount;
    expect(storedOf([10, 0, 'A'], [10, 0, 'A'])).toBe(1); // within one batch
    stream.chunks[0]!.chunk.cutBlock(true); // the newest line's head is compressed away
    expect(storedOf([10, 0, 'A'])).toBe(0);
    expect(storedOf([20, 0, 'B'], [19, 500_000_000, 'older'], [20, 0, 'same time'])).toBe(3); // B is newest, no longer last
    expect(storedOf([20, 0, 'B'], [20, 0, 'same time'])).toBe(1); // only B is the newest
    stream.closeOpenChunk();
    expect(storedOf([20, 0, 'B'])).toBe(0);
    expect(storedOf([20, 0, 'B2'], [21, 0, 'C'])).toBe(2);
    expect(stream.entriesInRange(0n, 100_000_000_000n).map((e) => e.line)).toEqual(['A', 'older', 'B', 'same time', 'same time', 'B2', 'C']);
  });
});
