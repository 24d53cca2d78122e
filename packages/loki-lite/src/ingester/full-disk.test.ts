import { randomBytes } from 'node:crypto';
import { decodePushBody, encodePushRequestProto, EntryBatch, LokiError, parseLabels, printLabels, snappyCompress } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ingesterFixture, stopIngesterFixtures } from '../testing/ingester-fixture.js';
import { newLabelMatcher } from '@loki-lite/shared';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import { LimitedDisk } from '../testing/limited-disk.js';
import { storedChunkEntries, streamEntries } from '../testing/chunk-entries.js';
import { Ingester } from './ingester.js';

/*
 * A push is acknowledged only once it is whole on disk. These run the ingester on a pretend disk that fills
 * up (writes come up short, then fail with ENOSPC) or fails its fsyncs, and check the promise both ways:
 * every acknowledged line is kept (in memory, and after a restart), and nothing of a push that failed is
 * visible, in memory or in the store.
 */

afterEach(stopIngesterFixtures);

const T0 = BigInt(Date.now()) * 1_000_000n;
const ALL = [newLabelMatcher('app', '=', 'disk')];

function setup(disk: LimitedDisk, ingesterYaml = '{}') {
  return ingesterFixture(ingesterYaml, {
    limits: 'per_stream_rate_limit: 1GB, per_stream_rate_limit_burst: 1GB',
    walFiles: { open: disk.open, freeBytes: disk.freeBytes },
  });
}

function push(ingester: Ingester, lines: readonly string[], stream = '{app="disk"}', ts = (i: number) => T0 + BigInt(i)) {
  const labels = parseLabels(stream);
  const entries = EntryBatch.fromEntries(lines.map((line, i) => ({ timestamp: ts(i), line, structuredMetadata: [] })));
  return ingester.push('t', [{ labels, labelsString: printLabels(labels), entries }]);
}

function linesInMemory(ingester: Ingester): string[] {
  return ingester.streamsMatching('t', ALL).flatMap((s) => streamEntries(s, 0n, T0 * 2n).map((e) => e.line));
}

async function linesInStore(objects: MemoryObjectStore): Promise<string[]> {
  const keys = await objects.list('');
  const chunks = keys.filter((k) => !k.startsWith('index'));
  const out: string[] = [];
  for (const k of chunks) out.push(...storedChunkEntries(await objects.get(k), 0n, T0 * 2n).map((e) => e.line));
  return out;
}

describe('ingester on a disk that fills up', () => {
  it('keeps every acknowledged push and nothing of a failed one, before and after a restart', async () => {
    const disk = new LimitedDisk(1 << 30);
    // Small chunks, so pushes fill and close chunks whose flush must wait for their WAL write.
    const yaml =
      '{chunk_target_size: 1KB, chunk_block_size: 256B, flush_check_period: 10ms, index_cut_period: 1h, wal: {min_free_disk_space: 0, flush_on_shutdown: false}}';
    const { newIngester: make, crash, objects } = setup(disk, yaml);
    let ingester = make();
    await ingester.start();
    disk.capacity = disk.used + 20_000;
    const acked: string[] = [];
    const failed: string[] = [];
    let n = 0;
    // Four writers at a time, so failing writes share batches with others, and lines of one stream interleave.
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        [0, 1, 2, 3].map(async () => {
          // incompressible, so a push fills a chunk or two
          const lines = Array.from({ length: 8 }, () => `line ${n++} ${randomBytes(30).toString('hex')}`);
          const first = n - lines.length;
          await push(ingester, lines, '{app="disk"}', (i) => T0 + BigInt(first + i)).then(
            () => acked.push(...lines),
            (e: LokiError) => {
              expect(e.kind).toBe('internal');
              expect(e.message).toMatch(/^writing to the WAL failed, so the push was not stored: ENOSPC/);
              failed.push(...lines);
            },
          );
        }),
      );
    }
    expect(acked.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(linesInMemory(ingester))).toEqual(new Set(acked));
    // Flush what can be flushed (the checkpoint at the end of flushAll does not fit on the full disk).
    await ingester.flushAll().catch(() => {});
    const stored = await linesInStore(objects);
    expect(new Set([...stored, ...linesInMemory(ingester)])).toEqual(new Set(acked));

    // kill -9 and start again: the WAL gives back exactly what was acknowledged
    crash(ingester);
    ingester = make();
    await ingester.start();
    const replayed = new Set([...linesInMemory(ingester), ...stored]);
    expect(acked.filter((l) => !replayed.has(l))).toEqual([]);
    expect(failed.filter((l) => replayed.has(l))).toEqual([]);

    // space is back: pushes are taken again
    disk.capacity = disk.used + (1 << 20);
    await push(ingester, ['after the disk was emptied'], '{app="disk"}', () => T0 + BigInt(n));
    expect(linesInMemory(ingester)).toContain('after the disk was emptied');
  });

  it('fails a push that only repeats entries whose WAL write then fails', async () => {
    const disk = new LimitedDisk(1 << 30);
    const { newIngester: make } = setup(disk, '{wal: {min_free_disk_space: 0}}');
    const ingester = make();
    await ingester.start();
    disk.failFsyncs = 1;
    const original = push(ingester, ['sent twice']);
    // The agent sends the batch again before the first answer: the repeat is dropped as a duplicate, so its
    // answer depends on the first write.
    const repeat = push(ingester, ['sent twice']);
    await expect(original).rejects.toThrow('EIO');
    await expect(repeat).rejects.toThrow('EIO');
    expect(linesInMemory(ingester)).toEqual([]);
    await push(ingester, ['sent twice']);
    expect(linesInMemory(ingester)).toEqual(['sent twice']);
  });

  it('takes back a failed push out of a stream shared with acknowledged ones, and its newest entry with it', async () => {
    const disk = new LimitedDisk(1 << 30);
    const { newIngester: make } = setup(disk, '{chunk_block_size: 256B, wal: {min_free_disk_space: 0}}');
    const ingester = make();
    await ingester.start();
    await push(
      ingester,
      Array.from({ length: 20 }, (_, i) => `kept ${i} ${'k'.repeat(30)}`),
    );
    disk.failFsyncs = 1;
    await expect(
      push(
        ingester,
        Array.from({ length: 20 }, (_, i) => `failed ${i} ${'f'.repeat(30)}`),
        '{app="disk"}',
        (i) => T0 + 100n + BigInt(i),
      ),
    ).rejects.toThrow('EIO');
    expect(linesInMemory(ingester)).toEqual(Array.from({ length: 20 }, (_, i) => `kept ${i} ${'k'.repeat(30)}`));
    // The failed push's last entry is no longer the stream's newest: sending it again stores it.
    await push(ingester, [`failed 19 ${'f'.repeat(30)}`], '{app="disk"}', () => T0 + 119n);
    expect(linesInMemory(ingester).at(-1)).toBe(`failed 19 ${'f'.repeat(30)}`);
  });

  it('takes back only what a failed protobuf push stored, not the earlier entry one of its lines repeated', async () => {
    const disk = new LimitedDisk(1 << 30);
    const { newIngester: make } = setup(disk, '{wal: {min_free_disk_space: 0}}');
    const ingester = make();
    await ingester.start();
    await push(ingester, ['acknowledged'], '{app="disk"}', () => T0);
    disk.failFsyncs = 1;
    // The agent's retry of a batch: its first line repeats the stream's newest entry (dropped at ingest),
    // the second is new. Logged as the body as received, the failed record would hold both.
    const body = snappyCompress(
      encodePushRequestProto({
        streams: [
          {
            labels: '{app="disk"}',
            entries: [
              { timestamp: T0, line: 'acknowledged', structuredMetadata: [] },
              { timestamp: T0 + 1n, line: 'failed', structuredMetadata: [] },
            ],
          },
        ],
      }),
    );
    const decoded = decodePushBody(body, { contentType: 'application/x-protobuf', contentEncoding: undefined, maxMessageBytes: 1 << 20 });
    const streams = decoded.streams.map((s) => {
      const labels = parseLabels(s.labels);
      return { labels, labelsString: printLabels(labels), entries: s.entries };
    });
    await expect(ingester.push('t', streams, { snappyProtobuf: body, serviceNameFrom: [] })).rejects.toThrow('EIO');
    expect(linesInMemory(ingester)).toEqual(['acknowledged']);
  });

  it('refuses pushes below min_free_disk_space with a 503, says why, and takes them again once space is back', async () => {
    const disk = new LimitedDisk(1 << 30);
    const { newIngester: make, metrics } = setup(disk, '{wal: {min_free_disk_space: 64KB}}');
    const ingester = make();
    await ingester.start();
    disk.capacity = disk.used + 1024; // below the minimum already: the guard sees it on its next reading
    const refusal = await (async () => {
      for (let i = 0; i < 400; i++) {
        // The first pushes may still start writes that run out of space; a failed write reads the space again.
        const e = await push(ingester, [`probe ${i}`], '{app="probe"}', () => T0 + BigInt(i)).then(
          () => undefined,
          (err: LokiError) => err,
        );
        if (e?.kind === 'unavailable') return e;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('pushes were never refused');
    })();
    expect(refusal.kind).toBe('unavailable');
    expect(refusal.message).toMatch(
      /^the WAL disk is nearly full: .* free in .*, below ingester\.wal\.min_free_disk_space \(64KB\); pushes are refused until space is freed$/,
    );
    expect((await metrics.walDiskFullFailures.get()).values[0]!.value).toBeGreaterThan(0);
    disk.capacity = disk.used + (1 << 20);
    for (let i = 0; ; i++) {
      const ok = await push(ingester, ['space is back'], '{app="disk"}').then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (i > 400) throw new Error('pushes were not taken again');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(linesInMemory(ingester)).toEqual(['space is back']);
  });
});
