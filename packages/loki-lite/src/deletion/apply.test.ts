import type { Labels } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { chunkChecksum } from '../chunk/format.js';
import { MemChunk } from '../chunk/mem-chunk.js';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import { storedChunkEntries } from '../testing/chunk-entries.js';
import { applyDeletes, type ChunkIO, requestsDue } from './apply.js';
import type { DeleteRequest } from './request.js';

/*
 * applyDeletes on real chunks: whole chunks a selector-only request covers go, chunks a line filter or a
 * partial range touches are written again without the matching lines, the rest stay byte for byte.
 */

const MS = 1_000_000n;
const T = 1_764_547_200_000; // ms

/** A stored chunk of `lines`, one a second from `fromMs`. */
function chunk(fingerprint: string, fromMs: number, lines: string[]): { ref: ChunkRef; bytes: Buffer } {
  const c = new MemChunk('snappy', 256, 1 << 20);
  lines.forEach((line, i) => c.append({ timestamp: BigInt(fromMs + i * 1000) * MS + 123n, line, structuredMetadata: [] }));
  const bytes = c.encode();
  return {
    bytes,
    ref: { fingerprint, from: c.minTs, through: c.maxTs, checksum: chunkChecksum(bytes), size: bytes.length, lineBytes: c.lineBytes, entries: c.entries },
  };
}

/** An object store of chunks keyed by ref, as the compactor's LogStore would be. */
class Chunks implements ChunkIO {
  readonly objects = new Map<string, Buffer>();
  private key = (ref: ChunkRef) => `${ref.fingerprint}/${ref.from}:${ref.through}:${ref.checksum}`;
  add(c: { ref: ChunkRef; bytes: Buffer }): ChunkRef {
    this.objects.set(this.key(c.ref), c.bytes);
    return c.ref;
  }
  getChunk(_tenant: string, ref: ChunkRef): Promise<Buffer> {
    return Promise.resolve(this.objects.get(this.key(ref))!);
  }
  putChunk(_tenant: string, ref: ChunkRef, bytes: Buffer): Promise<void> {
    this.objects.set(this.key(ref), bytes);
    return Promise.resolve();
  }
}

const request = (query: string, startMs: number, endMs: number, extra: Partial<DeleteRequest> = {}): DeleteRequest => ({
  tenant: 't',
  requestId: 'abcd0123',
  seq: 0,
  query,
  startMs,
  endMs,
  createdAtMs: T,
  status: 'received',
  ...extra,
});

const labels = (app: string): Labels => [{ name: 'app', value: app }];
const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `secret ${prefix}${i}` : `${prefix}${i}`));

describe('applyDeletes', () => {
  it('drops chunks a selector-only request covers, rewrites those a line filter or a partial range touches, keeps the rest', async () => {
    const io = new Chunks();
    const a1 = io.add(chunk('a', T, lines('a', 10)));
    const a2 = io.add(chunk('a', T + 20_000, lines('a', 10)));
    const b1 = io.add(chunk('b', T, lines('b', 10)));
    const c1 = io.add(chunk('c', T, lines('c', 10)));
    const series: SeriesChunks[] = [
      { labels: labels('a'), fingerprint: 'a', chunks: [a1, a2] },
      { labels: labels('b'), fingerprint: 'b', chunks: [b1] },
      { labels: labels('c'), fingerprint: 'c', chunks: [c1] },
    ];
    const requests = [
      // covers a1 whole, and a2's first five lines (its sixth is 123ns past the end)
      request('{app="a"}', T, T + 25_000),
      // every "secret" line of b
      request('{app="b"} |= "secret"', T, T + 60_000),
    ];
    const before = io.objects.get(`c/${c1.from}:${c1.through}:${c1.checksum}`);
    const out = await applyDeletes('t', series, requests, io);

    expect(out.removed).toEqual([a1, a2, b1]);
    expect(out.written).toHaveLength(2);
    const [a2new, b1new] = out.written;
    expect(out.series).toEqual([
      { labels: labels('a'), fingerprint: 'a', chunks: [a2new] },
      { labels: labels('b'), fingerprint: 'b', chunks: [b1new] },
      { labels: labels('c'), fingerprint: 'c', chunks: [c1] },
    ]);
    const read = async (ref: ChunkRef) => storedChunkEntries(await io.getChunk('t', ref), ref.from, ref.through + 1n).map((e) => e.line);
    expect(await read(a2new!)).toEqual(lines('a', 10).slice(5));
    expect(a2new).toMatchObject({ from: BigInt(T + 25_000) * MS + 123n, through: a2.through, entries: 5 });
    expect(await read(b1new!)).toEqual(lines('b', 10).filter((l) => !l.startsWith('secret')));
    expect(b1new).toMatchObject({ from: BigInt(T + 1000) * MS + 123n, entries: 6 });
    expect(out.deletedLines).toBe(5 + 4);
    // the untouched chunk is not read or written again
    expect(io.objects.get(`c/${c1.from}:${c1.through}:${c1.checksum}`)).toBe(before);
  });

  it('rewrites a chunk a selector-only request covers only in part, and drops a series left with nothing', async () => {
    const io = new Chunks();
    const a1 = io.add(chunk('a', T, lines('a', 10)));
    const onlySecrets = io.add(chunk('s', T, ['secret 1', 'secret 2']));
    const series: SeriesChunks[] = [
      { labels: labels('a'), fingerprint: 'a', chunks: [a1] },
      { labels: labels('s'), fingerprint: 's', chunks: [onlySecrets] },
    ];
    const out = await applyDeletes('t', series, [request('{app=~"a|s"} |= "secret"', T - 1000, T + 100_000)], io);
    expect(out.series.map((s) => s.fingerprint)).toEqual(['a']);
    expect(out.removed).toEqual([a1, onlySecrets]);
    expect(out.written).toHaveLength(1);
  });

  it("leaves everything when no request matches, and ignores another tenant's requests", async () => {
    const io = new Chunks();
    const a1 = io.add(chunk('a', T, lines('a', 10)));
    const series = [{ labels: labels('a'), fingerprint: 'a', chunks: [a1] }];
    for (const requests of [
      [request('{app="z"}', T, T + 60_000)],
      [request('{app="a"}', T + 60_000, T + 90_000)],
      [request('{app="a"}', T, T + 60_000, { tenant: 'u' })],
    ]) {
      expect(await applyDeletes('t', series, requests, io)).toEqual({ series, removed: [], written: [], deletedLines: 0 });
    }
  });
});

describe('requestsDue', () => {
  const DAY = 86_400_000;
  const pieces = [
    request('{app="a"}', T + 5000, T + 6000, { createdAtMs: T }),
    request('{app="a"}', T, T + 1000, { createdAtMs: T, requestId: 'second', tenant: 'u' }),
    request('{app="a"}', T, T + 1000, { createdAtMs: T, status: 'processed' }),
    request('{app="a"}', T, T + 1000, { createdAtMs: T + DAY }),
  ];
  const modeOf = () => 'filter-and-delete' as const;

  it('are the received pieces past the cancel period and a minute, oldest range first', () => {
    const due = requestsDue(pieces, { nowMs: T + DAY + 60_001, cancelPeriodMs: DAY, modeOf });
    expect(due).toEqual([pieces[1], pieces[0]]);
    expect(requestsDue(pieces, { nowMs: T + DAY + 60_000, cancelPeriodMs: DAY, modeOf })).toEqual([]);
    expect(requestsDue(pieces, { nowMs: T + DAY + 60_001, cancelPeriodMs: DAY, modeOf, batchSize: 1 })).toEqual([pieces[1]]);
  });

  it('are none of a tenant in filter-only mode: its data stays in storage', () => {
    const due = requestsDue(pieces, { nowMs: T + 3 * DAY, cancelPeriodMs: DAY, modeOf: (t) => (t === 'u' ? 'filter-only' : 'filter-and-delete') });
    expect(due.map((p) => p.tenant)).toEqual(['t', 't']);
  });
});
