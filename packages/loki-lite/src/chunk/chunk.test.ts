import { EntryBatch } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { EntryProbe } from './duplicates.js';
import type { Entry } from './entry.js';
import { CHUNK_MAGIC, type ChunkEncoding, decodeChunk } from './format.js';
import { HeadMemory, MemChunk } from './mem-chunk.js';
import { type LinesRead, readSnapshotBlocks } from './reader.js';
import type { ChunkSnapshot } from './snapshot.js';
import { type BytePrefilter, compileBytePrefilter } from '../logql/log/prefilter.js';
import { parseQuery } from '../logql/syntax/parser.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import { BlockCursor, encodeBlockBody, sortBlockBody } from './block.js';
import { memChunkEntries, storedChunkEntries } from '../testing/chunk-entries.js';

const T0 = 1_795_132_800_000_000_000n;
const entry = (offsetNs: number, line: string, meta: Record<string, string> = {}): Entry => ({
  timestamp: T0 + BigInt(offsetNs),
  line,
  structuredMetadata: Object.entries(meta).map(([name, value]) => ({ name, value })),
});

describe.each<ChunkEncoding>(['none', 'gzip', 'snappy'])('chunk with %s encoding', (encoding) => {
  it('round-trips entries, metadata and unicode across many blocks', () => {
    const chunk = new MemChunk(encoding, 1024, 1 << 30);
    const written: Entry[] = [];
    for (let i = 0; i < 2000; i++) {
      const e = entry(i * 1_000_003, `line ${i} ✓ ${'x'.repeat(i % 50)}`, i % 7 === 0 ? { trace_id: `t${i}` } : {});
      chunk.append(e);
      written.push(e);
    }
    const bytes = chunk.encode();
    expect(bytes.readUInt32LE(0)).toBe(CHUNK_MAGIC);
    expect(decodeChunk(bytes).blocks.length).toBeGreaterThan(10);
    expect(storedChunkEntries(bytes, T0, T0 + 10n ** 15n)).toEqual(written);
  });

  it('accepts out-of-order entries and reads them back in order, equal timestamps in arrival order', () => {
    const chunk = new MemChunk(encoding, 64, 1 << 30);
    const order = [5, 1, 9, 3, 3, 7, 0, 8, 2, 6, 4];
    order.forEach((t, i) => chunk.append(entry(t, `e${t}-${i}`)));
    const expected = ['e0-6', 'e1-1', 'e2-8', 'e3-3', 'e3-4', 'e4-10', 'e5-0', 'e6-9', 'e7-5', 'e8-7', 'e9-2'];
    expect(memChunkEntries(chunk, T0, T0 + 100n).map((e) => e.line)).toEqual(expected);
    const bytes = chunk.encode();
    expect(storedChunkEntries(bytes, T0, T0 + 100n).map((e) => e.line)).toEqual(expected);
    // after re-sorting, blocks no longer overlap
    const blocks = decodeChunk(bytes).blocks;
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.minTs >= blocks[i - 1]!.maxTs).toBe(true);
  });

  it('knows its time range from its head and blocks, in or out of order', () => {
    const chunk = new MemChunk(encoding, 1 << 20, 1 << 30);
    expect([chunk.minTs, chunk.maxTs]).toEqual([0n, 0n]);
    chunk.append(entry(50, 'a'));
    chunk.append(entry(60, 'b'));
    expect([chunk.minTs, chunk.maxTs]).toEqual([T0 + 50n, T0 + 60n]);
    chunk.append(entry(40, 'late'));
    chunk.append(entry(55, 'later'));
    expect([chunk.minTs, chunk.maxTs]).toEqual([T0 + 40n, T0 + 60n]);
    chunk.cutBlock();
    expect([chunk.minTs, chunk.maxTs]).toEqual([T0 + 40n, T0 + 60n]);
    chunk.append(entry(45, "into the head, between the block's bounds"));
    expect([chunk.minTs, chunk.maxTs]).toEqual([T0 + 40n, T0 + 60n]);
    chunk.append(entry(70, 'newest'));
    chunk.append(entry(-5, 'oldest'));
    expect([chunk.minTs, chunk.maxTs]).toEqual([T0 - 5n, T0 + 70n]);
    expect(memChunkEntries(chunk, T0 - 100n, T0 + 100n).map((e) => e.line)).toEqual([
      'oldest',
      'late',
      "into the head, between the block's bounds",
      'a',
      'later',
      'b',
      'newest',
    ]);
  });

  it('compresses a full head instead of growing it while head memory is tight, losing nothing', () => {
    const fill = (memory: HeadMemory) => {
      const chunk = new MemChunk(encoding, 1 << 20, 1 << 30, false, memory);
      for (let i = 0; i < 400; i++) chunk.append(entry(i, `line ${i} ${'y'.repeat(60)}`));
      return chunk;
    };
    const roomy = fill(new HeadMemory());
    const tight = fill(new HeadMemory(4096)); // tight once 2 KB of heads are in use
    expect(roomy.headBytes).toBeGreaterThan(16 * 1024); // one head, grown
    expect(tight.headBytes).toBeLessThan(8 * 1024); // cut at its 8 KB buffer, again and again
    const written = memChunkEntries(roomy, T0, T0 + 1000n);
    expect(memChunkEntries(tight, T0, T0 + 1000n)).toEqual(written);
    expect(decodeChunk(tight.encode()).blocks.length).toBeGreaterThan(3);
    expect(storedChunkEntries(tight.encode(), T0, T0 + 1000n)).toEqual(written);
  });

  it('reads a snapshot (or its structured clone) with the stored reader: late blocks merged, every line of the range counted as read, also those the prefilter skips', () => {
    const chunk = new MemChunk(encoding, 256, 1 << 30);
    const written: Entry[] = [];
    const add = (t: number, line: string, meta: Record<string, string> = {}) => {
      const e = entry(t, line, meta);
      chunk.append(e);
      written.push(e);
    };
    for (let i = 0; i < 60; i++) add(i * 10, `in order ${i} ${i % 3 === 0 ? 'NCCL' : 'step'}`, i % 11 === 0 ? { trace_id: `t${i}` } : {});
    // late entries: into a block of their own, overlapping sealed ones, and into the head out of order
    for (let i = 0; i < 20; i++) add(i * 25 + 5, `late ${i} ${i % 2 === 0 ? 'NCCL' : 'step'}`);
    add(590, 'in order, same time as the last one: after it');
    add(-3, 'oldest, into the head NCCL');
    const byTime = [...written].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    const snapshot = chunk.snapshot();
    expect(snapshot.blocks.length).toBeGreaterThan(2);
    expect(snapshot.head).toBeDefined();
    const runs = (s: ChunkSnapshot, backward: boolean, prefilter?: BytePrefilter, read?: LinesRead, through = T0 + 10_000n) => {
      const out: Entry[][] = [];
      const reader = readSnapshotBlocks(s, T0 - 100n, through, backward, prefilter, read);
      for (let run = reader.next(); run; run = reader.next()) out.push(run);
      return out;
    };
    for (const s of [snapshot, structuredClone(snapshot)]) {
      expect(runs(s, false).flat()).toEqual(byTime);
      expect(runs(s, true).reverse().flat()).toEqual(byTime);
      const nccl = compileBytePrefilter((parseQuery('{a="b"} |= "NCCL"') as LogSelectorExpr).pipeline)!;
      for (const through of [T0 + 10_000n, T0 + 300n]) {
        const read = { lines: 0, bytes: 0 };
        const inRange = byTime.filter((e) => e.timestamp < through);
        expect(runs(s, false, nccl, read, through).flat()).toEqual(inRange.filter((e) => e.line.includes('NCCL')));
        expect(read).toEqual({ lines: inRange.length, bytes: inRange.reduce((n, e) => n + Buffer.byteLength(e.line), 0) });
      }
    }
    expect(memChunkEntries(chunk, T0 - 100n, T0 + 10_000n)).toEqual(byTime);
    // Posted to a query thread, the snapshot's bytes are shared, not copied: a clone sees the same memory.
    const clone = structuredClone(snapshot);
    for (const [i, b] of [...snapshot.blocks, snapshot.head!].entries()) {
      expect(b.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      const cloned = (i < snapshot.blocks.length ? clone.blocks[i]! : clone.head!).data;
      const byte = b.data[0]!;
      cloned[0] = byte ^ 0xff;
      expect(b.data[0]).toBe(byte ^ 0xff);
      cloned[0] = byte;
    }
    // a range inside the chunk: only its entries, each block tested on its timestamps
    const inner = readSnapshotBlocks(structuredClone(snapshot), T0 + 100n, T0 + 200n, false);
    const innerRuns: Entry[] = [];
    for (let run = inner.next(); run; run = inner.next()) innerRuns.push(...run);
    expect(innerRuns).toEqual(byTime.filter((e) => e.timestamp >= T0 + 100n && e.timestamp < T0 + 200n));
  });

  it('shares one copy of an unchanged head between snapshots, and a snapshot keeps its entries while the head grows, is cut and fills again', () => {
    const chunk = new MemChunk(encoding, 4096, 1 << 30);
    const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => entry(from + i, `line ${from + i} ${'y'.repeat((from + i) % 40)}`));
    const read = (s: ChunkSnapshot) => {
      const out: Entry[] = [];
      const reader = readSnapshotBlocks(structuredClone(s), T0, T0 + 10n ** 12n, false);
      for (let run = reader.next(); run; run = reader.next()) out.push(...run);
      return out;
    };
    const first = lines(0, 10);
    first.forEach((e) => chunk.append(e));
    const a = chunk.snapshot();
    const again = chunk.snapshot();
    // No copy per query for a head nothing was appended to: both views are of the same shared bytes.
    expect(again.head!.data.buffer).toBe(a.head!.data.buffer);
    const grown = lines(10, 14);
    grown.forEach((e) => chunk.append(e));
    const b = chunk.snapshot();
    expect(read(a)).toEqual(first);
    expect(read(b)).toEqual([...first, ...grown]);
    // Cut the head into a block, then fill a new head: the earlier snapshots still read what they took.
    chunk.cutBlock(true);
    const next = lines(14, 30);
    next.forEach((e) => chunk.append(e));
    const c = chunk.snapshot();
    expect(c.head!.data.buffer).not.toBe(b.head!.data.buffer);
    expect(read(a)).toEqual(first);
    expect(read(b)).toEqual([...first, ...grown]);
    expect(read(c)).toEqual([...first, ...grown, ...next]);
    // An out-of-order entry: the snapshot sorts a copy, and the earlier ones are untouched.
    chunk.append(entry(15, 'late'));
    expect(read(chunk.snapshot()).map((e) => e.line)).toEqual([...first, ...grown, next[0]!, next[1]!, entry(15, 'late'), ...next.slice(2)].map((e) => e.line));
    expect(read(c)).toEqual([...first, ...grown, ...next]);
  });

  it('selects a half-open time range [from, through)', () => {
    const chunk = new MemChunk(encoding, 100, 1 << 30);
    for (let i = 0; i < 50; i++) chunk.append(entry(i, `l${i}`));
    expect(memChunkEntries(chunk, T0 + 10n, T0 + 13n).map((e) => e.line)).toEqual(['l10', 'l11', 'l12']);
    expect(storedChunkEntries(chunk.encode(), T0 + 48n, T0 + 1000n).map((e) => e.line)).toEqual(['l48', 'l49']);
  });

  it.each(['in time order', 'shuffled'])(
    'finds an entry it holds by timestamp and line, in its head and its blocks, before and after encoding (entries %s)',
    (order) => {
      // Timestamps either side of the 32-bit halves' boundaries and before 1970; several lines at one time.
      const stamps = [-(2n ** 40n), -1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, T0, T0 + 2n ** 31n, T0 + 2n ** 32n - 1n, T0 + 2n ** 32n];
      const all: Entry[] = [];
      for (let i = 0; i < 400; i++) {
        const at = stamps[Math.floor((i * stamps.length) / 400)]! + BigInt(i % 3 === 0 ? 0 : i * 1000);
        all.push({ ...entry(0, `line ${i} ${'z'.repeat(i % 70)}`, i % 5 ? {} : { k: `${i}` }), timestamp: at });
      }
      let seed = 3;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const appended =
        order === 'shuffled'
          ? all
              .map((e) => ({ e, r: random() }))
              .sort((a, b) => a.r - b.r)
              .map((x) => x.e)
          : all;
      const probe = (e: Entry) => {
        const batch = EntryBatch.fromEntries([e]);
        const p = new EntryProbe();
        p.set(batch.columns, batch.first);
        return p;
      };
      const misses = (e: Entry): Entry[] =>
        [
          { ...e, line: `${e.line}.` },
          { ...e, line: e.line.slice(0, -1) },
          { ...e, timestamp: e.timestamp + 1n },
          { ...e, timestamp: e.timestamp - 2n ** 32n },
        ].filter((m) => !all.some((x) => x.timestamp === m.timestamp && x.line === m.line));
      const head = new MemChunk(encoding, 1 << 20, 1 << 30); // one head of many runs
      const blocks = new MemChunk(encoding, 1024, 1 << 30); // many blocks and a head
      for (const e of appended) {
        // looked up as soon as appended: the head's runs are brought up to date between appends and cuts
        for (const chunk of [head, blocks]) {
          chunk.append(e);
          expect(chunk.holds(probe(e))).toBe(true);
          expect(chunk.holds(probe({ ...e, line: `${e.line}.` }))).toBe(false);
        }
      }
      for (const chunk of [head, blocks]) {
        for (const e of all) {
          expect(chunk.holds(probe(e))).toBe(true);
          expect(chunk.holds(probe({ ...e, structuredMetadata: [{ name: 'other', value: 'metadata' }] }))).toBe(true);
          for (const m of misses(e)) expect(chunk.holds(probe(m))).toBe(false);
        }
        chunk.encode(); // the head cut, overlapping blocks re-sorted
        for (const e of all) expect(chunk.holds(probe(e))).toBe(true);
        for (const m of misses(all[0]!)) expect(chunk.holds(probe(m))).toBe(false);
      }
    },
  );

  it('compares timestamps by their signed high and unsigned low 32-bit halves when looking for an entry', () => {
    const chunk = new MemChunk(encoding, 1 << 20, 1 << 30);
    const at = (ts: bigint): Entry => ({ timestamp: ts, line: `at ${ts}`, structuredMetadata: [] });
    // a low half at or over 2^31, then a late entry with the same high half and a small low half
    const entries = [at(2n ** 32n - 10n), at(10n), at(2n ** 31n), at(-(2n ** 32n) + 5n), at(-1n)];
    for (const e of entries) chunk.append(e);
    const probe = (e: Entry) => {
      const batch = EntryBatch.fromEntries([e]);
      const p = new EntryProbe();
      p.set(batch.columns, batch.first);
      return p;
    };
    for (const e of entries) expect(chunk.holds(probe(e))).toBe(true);
    chunk.cutBlock();
    for (const e of entries) expect(chunk.holds(probe(e))).toBe(true);
    expect(chunk.holds(probe({ ...at(2n ** 32n - 10n), timestamp: -10n }))).toBe(false);
  });

  it('reports full at the target size', () => {
    const chunk = new MemChunk(encoding, 256, 4096);
    let n = 0;
    while (!chunk.isFull()) chunk.append(entry(n++, `${n} ${Math.random()} ${'abcdefgh'.repeat(n % 10)}`));
    expect(chunk.size).toBeGreaterThanOrEqual(4096);
    expect(n).toBeGreaterThan(10);
  });
});

describe('sortBlockBody', () => {
  it('orders by the full signed 64-bit timestamp, stable for equal ones, metadata kept', () => {
    // Values either side of the 32-bit halves' boundaries, negatives (before 1970) and duplicates.
    const stamps = [2n ** 32n, 2n ** 32n - 1n, -1n, 0n, -(2n ** 40n), T0, 2n ** 31n, 2n ** 32n - 1n, T0 - 1n, 2n ** 62n, -1n];
    const entries: Entry[] = stamps.map((timestamp, i) => ({ timestamp, line: `l${i}`, structuredMetadata: i % 3 ? [] : [{ name: 'k', value: `v${i}` }] }));
    const sorted = sortBlockBody(encodeBlockBody(entries));
    const out: Entry[] = [];
    for (const c = new BlockCursor(sorted); c.next(); ) out.push(c.entry());
    const expected = entries
      .map((e, i) => ({ e, i }))
      .sort((a, b) => (a.e.timestamp < b.e.timestamp ? -1 : a.e.timestamp > b.e.timestamp ? 1 : a.i - b.i))
      .map((x) => x.e);
    expect(out).toEqual(expected);
  });
});

describe('chunk corruption', () => {
  const good = (() => {
    const c = new MemChunk('snappy', 128, 1 << 20);
    for (let i = 0; i < 100; i++) c.append(entry(i, `line ${i}`));
    return c.encode();
  })();

  it('detects a flipped bit in a block, the table, the magic or a truncation', () => {
    const flip = (offset: number) => {
      const b = Buffer.from(good);
      b[offset]! ^= 0x10;
      return b;
    };
    expect(() => storedChunkEntries(flip(20), T0, T0 + 1000n)).toThrow('checksum mismatch');
    expect(() => storedChunkEntries(flip(good.length - 12), T0, T0 + 1000n)).toThrow('checksum');
    expect(() => storedChunkEntries(flip(0), T0, T0 + 1000n)).toThrow('bad magic');
    expect(() => storedChunkEntries(good.subarray(0, good.length - 3), T0, T0 + 1000n)).toThrow();
  });
});
