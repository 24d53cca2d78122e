import { afterEach, describe, expect, it } from 'vitest';
import { ingesterFixture, stopIngesterFixtures, ingestStream } from '../testing/ingester-fixture.js';
import { storedChunkEntries } from '../testing/chunk-entries.js';
import { decodeIndex } from '../index/format.js';
import { chunkKey, PERIOD_NS } from '../storage/keys.js';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';

/** A memory store that refuses some puts, as a store under load answers 503 now and then. */
class FlakyStore extends MemoryObjectStore {
  /** Refuse the next put of a key starting with this, once. */
  failNext: string | undefined;
  /** Refuse every n-th put of a chunk and of an index file (0: none). */
  failEvery = { chunk: 0, index: 0 };
  private readonly puts = { chunk: 0, index: 0 };

  override async put(key: string, body: Uint8Array): Promise<void> {
    await new Promise((r) => setImmediate(r)); // a round trip: other work runs meanwhile
    const failOnce = this.failNext !== undefined && key.startsWith(this.failNext);
    if (failOnce) this.failNext = undefined;
    const kind = key.startsWith('index/') ? 'index' : 'chunk';
    if (failOnce || (this.failEvery[kind] > 0 && ++this.puts[kind] % this.failEvery[kind] === 0)) throw new Error(`503 Slow Down: ${key}`);
    await super.put(key, body);
  }
}

afterEach(stopIngesterFixtures);

function setup(ingesterYaml: string) {
  const fixture = ingesterFixture(ingesterYaml, { objects: new FlakyStore() });
  return { ingester: fixture.newIngester(), objects: fixture.objects };
}

/** Every index file's chunk refs, by table ("index/index_<day>/<tenant>/"), as object keys. */
async function indexedChunks(objects: MemoryObjectStore): Promise<Map<string, string[]>> {
  const byTable = new Map<string, string[]>();
  for (const key of await objects.list('index/')) {
    const table = key.slice(0, key.lastIndexOf('/') + 1);
    const tenant = table.split('/')[2]!;
    const refs = decodeIndex(await objects.get(key)).series.flatMap((s) => s.chunks.map((c) => chunkKey(tenant, c)));
    byTable.set(table, [...(byTable.get(table) ?? []), ...refs]);
  }
  return byTable;
}

const DAY = PERIOD_NS;
const T0 = ((BigInt(Date.now()) * 1_000_000n) / DAY) * DAY + DAY / 2n; // noon today

describe('flushing and index cuts', () => {
  it('a cut whose index file fails for one of its tables writes that one again, not a second file for the others', async () => {
    const { ingester, objects } = setup('{wal: {enabled: false}, index_cut_period: 1h, max_chunk_age: 72h}');
    await ingester.start();
    // one chunk over three days: listed in three daily tables
    await ingester.push('t', [
      ingestStream('{s="a"}', [
        [T0 - 2n * DAY, 'two days ago'],
        [T0 - DAY, 'yesterday'],
        [T0, 'today'],
      ]),
    ]);
    objects.failNext = `index/index_${Number((T0 - DAY) / DAY)}/`;
    await ingester.flushAll();
    const tables = await indexedChunks(objects);
    expect([...tables.values()].map((refs) => refs.length)).toEqual([1, 1, 1]);
    expect((await objects.list('index/')).length).toBe(3);
  });

  it('many flushes at once while pushing, with a store refusing some puts: each chunk listed once per table, each line once', async () => {
    const { ingester, objects } = setup(
      '{wal: {enabled: false}, chunk_target_size: 2KB, chunk_block_size: 512B, index_cut_period: 5ms, flush_check_period: 5ms, chunk_idle_period: 20ms, max_chunk_age: 72h, flush_op_backoff: {min_period: 1ms, max_period: 5ms}}',
    );
    objects.failEvery = { chunk: 5, index: 3 };
    await ingester.start();
    const pushed = new Set<string>();
    const flushes: Array<Promise<void>> = [];
    let n = 0;
    for (let round = 0; round < 60; round++) {
      // before midnight, after it, and across it: most cuts write a file in each of two tables
      const streams = (
        [
          ['a', -1_000_000n],
          ['b', 0n],
          ['c', -500n],
        ] as const
      ).map(([s, offset]) => {
        const entries = Array.from({ length: 8 }, (): [bigint, string] => {
          const ts = T0 + DAY / 2n + offset + BigInt(n++);
          return [ts, `${s} line ${n} ${'x'.repeat(40)}`];
        });
        for (const [ts, line] of entries) pushed.add(`${ts} ${line}`);
        return ingestStream(`{s="${s}"}`, entries);
      });
      await ingester.push('t', streams);
      if (round % 6 === 0) flushes.push(ingester.flushAll(), ingester.flushAll(), ingester.flushAll());
      if (round % 4 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(flushes);
    await ingester.flushAll();

    const tables = await indexedChunks(objects);
    expect(tables.size).toBe(2);
    const read = new Map<string, number>();
    for (const refs of tables.values()) {
      expect(refs.length).toBe(new Set(refs).size); // no chunk listed twice in a table
      for (const key of refs) read.set(key, (read.get(key) ?? 0) + 1);
    }
    const lines: string[] = [];
    for (const key of read.keys()) {
      for (const e of storedChunkEntries(await objects.get(key), 0n, 2n ** 62n)) lines.push(`${e.timestamp} ${e.line}`);
    }
    expect(lines.length).toBe(pushed.size);
    expect(new Set(lines)).toEqual(pushed);
  });
});
