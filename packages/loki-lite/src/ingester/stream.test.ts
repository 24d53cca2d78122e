import { EntryBatch, EntryColumns, NO_METADATA } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { HeadMemory } from '../chunk/mem-chunk.js';
import { readSnapshotBlocks } from '../chunk/reader.js';
import { memChunkEntries, streamEntries } from '../testing/chunk-entries.js';
import { Stream, type StreamSettings } from './stream.js';

const settings: StreamSettings = {
  headMemory: new HeadMemory(),
  encoding: 'none',
  blockSize: 1 << 16,
  targetSize: 1 << 20,
  // a window of 0.6 s, so the cutoff borrows from the seconds
  maxBehindSeconds: 0,
  maxBehindNanos: 600_000_000,
  rateLimitBytes: 1 << 30,
  rateBurstBytes: 1 << 30,
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
    const outcome = stream.push(
      batch([9, 899_999_999, 'too old'], [9, 900_000_000, 'just in'], [10, 500_000_000, 'newest'], [10, 500_000_000, 'same time']),
      0,
      false,
    );
    expect(outcome.failed.map((f) => [f.timestamp, f.error.message])).toEqual([
      [9_899_999_999n, 'entry too far behind, entry timestamp is: 1970-01-01T00:00:09Z, oldest acceptable timestamp is: 1970-01-01T00:00:09Z'],
    ]);
    // the repeat of the newest entry is dropped silently; the other line at the same time is kept
    expect(outcome.stored).toEqual([1, 3]);
    expect(streamEntries(stream, 0n, 20_000_000_000n).map((e) => e.line)).toEqual(['just in', 'newest', 'same time']);
  });

  it('drops a repeat of the newest entry wherever its line is kept: head, cut block, after later or closed chunks', () => {
    const stream = new Stream([{ name: 'a', value: 'b' }], '{a="b"}', 'fp', settings, 0, () => {});
    const storedOf = (...entries: Array<[number, number, string]>) => stream.push(batch(...entries), 0, false).storedCount;
    expect(storedOf([10, 0, 'A'], [10, 0, 'A'])).toBe(1); // within one batch
    stream.chunks[0]!.chunk.cutBlock(true); // the newest line's head is compressed away
    expect(storedOf([10, 0, 'A'])).toBe(0);
    expect(storedOf([20, 0, 'B'], [19, 500_000_000, 'older'], [20, 0, 'same time'])).toBe(3); // B is newest, no longer last
    expect(storedOf([20, 0, 'B'])).toBe(0);
    stream.closeOpenChunk();
    expect(storedOf([20, 0, 'B'])).toBe(0);
    expect(storedOf([20, 0, 'B2'], [21, 0, 'C'])).toBe(2);
    expect(streamEntries(stream, 0n, 100_000_000_000n).map((e) => e.line)).toEqual(['A', 'older', 'B', 'same time', 'B2', 'C']);
  });

  it("drops any entry a chunk in memory holds at the same time with the same line, as Loki's head block does", () => {
    const small: StreamSettings = { ...settings, blockSize: 64, targetSize: 256, maxBehindSeconds: 60, maxBehindNanos: 0 };
    const stream = new Stream([{ name: 'a', value: 'b' }], '{a="b"}', 'fp', small, 0, () => {});
    const push = (...entries: Array<[number, number, string]>) => stream.push(batch(...entries), 0, false);
    const sent: Array<[number, number, string]> = [
      [10, 0, 'one'],
      [11, 0, 'two'],
      [12, 0, 'three'],
      [12, 0, 'three, again at 12'],
      [13, 0, 'four'],
    ];
    expect(push(...sent).storedCount).toBe(5);
    // an agent re-sends the batch: every entry is held already (the first four in the cut blocks)
    expect(stream.chunks[0]!.chunk.headBytes).toBeLessThan(64);
    let outcome = push(...sent);
    expect([outcome.storedCount, outcome.stored, outcome.failed]).toEqual([0, [], []]);
    // the same times with other lines are kept, repeats among them within the batch are not
    outcome = push([11, 0, 'two, but not the same'], [12, 0, 'three'], [12, 0, 'three, later'], [12, 0, 'three, later']);
    expect(outcome.stored).toEqual([0, 2]);
    // a late entry into the open head (unsorted now), then its repeat
    expect(push([12, 500, 'late']).storedCount).toBe(1);
    expect(push([12, 500, 'late'], [12, 500, 'late, other line']).stored).toEqual([1]);
    // fill chunks until the first is closed: its entries still count while it is in memory
    for (let i = 0; i < 20 && stream.chunks.length < 3; i++) push([14 + i, 0, `filler ${i} ${'x'.repeat(40)}`]);
    expect(stream.chunks[0]!.state).toBe('closed');
    expect(push([10, 0, 'one'], [13, 0, 'four'], [12, 500, 'late']).storedCount).toBe(0);
    // structured metadata is not compared, as in Loki
    const withMetadata = new EntryColumns(Buffer.from('one'));
    withMetadata.add(10, 0, 0, 3, [{ name: 'trace_id', value: 'abc' }]);
    expect(stream.push(new EntryBatch(withMetadata, 0, 1), 0, false).storedCount).toBe(0);
    // a repeat beyond the out-of-order window is refused as too far behind, not dropped (Loki checks the window first)
    push([100, 0, 'much later']);
    expect(push([10, 0, 'one']).failed.map((f) => f.error.code)).toEqual(['too_far_behind']);
    // replayed entries skip the window but not this check
    expect(stream.push(batch([10, 0, 'one'], [10, 0, 'one, replayed']), 0, true).stored).toEqual([1]);
    const lines = streamEntries(stream, 0n, 20_000_000_000n).map((e) => e.line);
    expect(lines.slice(0, 8)).toEqual(['one', 'one, replayed', 'two', 'two, but not the same', 'three', 'three, again at 12', 'three, later', 'late']);
    expect(new Set(lines).size).toBe(lines.length);
  });

  it('a query reads an in-memory chunk as it was, and within the time range it had, when the query took it', async () => {
    const stream = new Stream([{ name: 'a', value: 'b' }], '{a="b"}', 'fp', { ...settings, maxBehindSeconds: 60 }, 0, () => {});
    stream.push(batch([10, 0, 'a'], [12, 0, 'b']), 0, false);
    const [taken] = stream.chunkSnapshots(0n, 100_000_000_000n);
    stream.push(batch([11, 0, 'late, within'], [13, 0, 'later, outside'], [9, 999_999_999, 'late, outside']), 0, false);
    expect([taken!.minTs, taken!.maxTs]).toEqual([10_000_000_000n, 12_000_000_000n]);
    expect(
      readSnapshotBlocks(taken!.chunk, 0n, 100_000_000_000n, false)
        .next()!
        .map((e) => e.line),
    ).toEqual(['a', 'b']);
  });

  it('keeps what Loki keeps over random pushes, cuts and chunk closes, in time order with the right ranges', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const small: StreamSettings = { ...settings, blockSize: 256, targetSize: 2048, maxBehindSeconds: 1, maxBehindNanos: 0 };
    const stream = new Stream([{ name: 'a', value: 'b' }], '{a="b"}', 'fp', small, 0, () => {});
    // The model: an entry too far behind the newest is refused; one the stream holds (time and line) dropped.
    let newest: [bigint, string] | undefined;
    const kept: Array<[bigint, string]> = [];
    const held = new Set<string>();
    let t = 1_764_547_200_000_000_000n;
    for (let round = 0; round < 400; round++) {
      const entries: Array<[number, number, string]> = [];
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        const r = random();
        let ts = (t += BigInt(Math.floor(random() * 3e8)));
        if (r < 0.15) ts = t - BigInt(Math.floor(random() * 1.5e9)); // late, sometimes beyond the 1 s window
        let line = `line ${round} ${n} ${'x'.repeat(Math.floor(random() * 40))}`;
        if (r > 0.95 && newest)
          [ts, line] = newest; // an exact repeat of the newest
        else if (r > 0.9 && kept.length > 0)
          [ts, line] = kept[kept.length - 1 - Math.floor(random() * Math.min(kept.length, 60))]!; // of another
        else if (r > 0.85 && newest) ts = newest[0]; // another line at the newest's time
        entries.push([Number(ts / 1_000_000_000n), Number(ts % 1_000_000_000n), line]);
        const behind = newest !== undefined && ts < newest[0] - 1_000_000_000n;
        if (!behind && !held.has(`${ts} ${line}`)) {
          kept.push([ts, line]);
          held.add(`${ts} ${line}`);
          if (!newest || ts > newest[0]) newest = [ts, line];
        }
      }
      stream.push(batch(...entries), 0, false);
      if (random() < 0.1) stream.chunks[stream.chunks.length - 1]?.chunk.cutBlock();
      if (random() < 0.05) stream.closeOpenChunk();
    }
    const byTime = [...kept].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)); // stable: arrival order on ties
    expect(streamEntries(stream, 0n, 2n ** 62n).map((e) => [e.timestamp, e.line])).toEqual(byTime);
    expect(stream.chunks.length).toBeGreaterThan(3);
    for (const { chunk } of stream.chunks) {
      const ts = memChunkEntries(chunk, 0n, 2n ** 62n).map((e) => e.timestamp);
      expect([chunk.minTs, chunk.maxTs]).toEqual([ts.reduce((x, y) => (y < x ? y : x)), ts.reduce((x, y) => (y > x ? y : x))]);
    }
  });
});
