import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type S3rverHandle, startS3rver } from '../storage/testing/s3rver.js';
import { chunkKey } from '../storage/keys.js';
import { LogStore } from '../storage/log-store.js';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { DAY, T0, series, writeIndex } from '../storage/testing/index-fixture.js';
import { compactorFixture, FailingWritesStore, workingDirectory } from '../testing/compactor-fixture.js';
import type { SeriesChunks } from '../index/types.js';
import type { TableDeletes } from './table.js';

const PERIODS = [{ from: 0n, prefix: 'index_' }];
const ALL = [{ name: 'app', type: '=~' as const, value: '.+', matches: () => true }];
const HOUR = 3_600_000_000_000n;
const MS = 1_000_000n;
/** Ten and a half days after the old data's day began. */
const NOW = T0 + 10n * DAY + 12n * HOUR;
const RETENTION = {
  compactorYaml: '{retention_enabled: true, delete_request_store: filesystem, retention_delete_delay: 2h}',
  limitsYaml: '{retention_period: 24h}',
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** Old data (day T0, and a chunk running into the next day), fresh data (today), two index cuts each. */
const OLD = [series('{app="old"}', [T0, T0 + HOUR], [T0 + 2n * HOUR, T0 + 3n * HOUR]), series('{app="old", pod="p"}', [T0 + 23n * HOUR, T0 + 25n * HOUR])];
const FRESH = [series('{app="new"}', [NOW - 2n * HOUR, NOW - HOUR], [NOW - HOUR, NOW - 1n])];

async function populate(objects: ObjectStore): Promise<void> {
  const store = new LogStore(objects, PERIODS);
  for (const s of [...OLD, ...FRESH]) for (const c of s.chunks) await store.putChunk('t', c, Buffer.from(`bytes of ${chunkKey('t', c)}`));
  // one index file per chunk, as cuts of the ingester would list them
  for (const s of [...OLD, ...FRESH]) for (const c of s.chunks) await writeIndex(store, 't', [{ ...s, chunks: [c] }]);
}

const keysOf = (list: readonly SeriesChunks[]) => list.flatMap((s) => s.chunks.map((c) => chunkKey('t', c)));

/** Every chunk a current index file names exists: no query can fail on a missing chunk. */
async function everyIndexedChunkExists(objects: ObjectStore): Promise<void> {
  const store = new LogStore(objects, PERIODS);
  const chunks = new Set(await objects.list('chunks/'));
  for (const table of await store.listAllTables()) {
    for (const key of await store.listTableFiles(table)) {
      for (const s of await store.readIndexFile(key))
        for (const c of s.chunks) expect(chunks, `${key} names ${chunkKey(table.tenant, c)}`).toContain(chunkKey(table.tenant, c));
    }
  }
}

/** Retention's end state: old chunks and tables gone, fresh data whole and byte for byte, no marker left. */
async function expectRetained(objects: ObjectStore, markersDir: string): Promise<void> {
  expect(await objects.list('chunks/')).toEqual(keysOf(FRESH).sort());
  for (const key of keysOf(FRESH)) expect((await objects.get(key)).toString()).toBe(`bytes of ${key}`);
  expect((await objects.list('index/')).map((k) => k.split('/')[1])).toEqual(['index_20422']);
  const store = new LogStore(objects, PERIODS);
  expect(await store.selectSeries('t', ALL, T0 - DAY, T0 + 2n * DAY)).toEqual([]);
  expect(await store.selectSeries('t', ALL, NOW - DAY, NOW)).toEqual(FRESH);
  expect(readdirSafe(markersDir)).toEqual([]);
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

describe('retention', () => {
  it('takes expired chunks out of the index, deletes them after retention_delete_delay, and drops tables left empty', async () => {
    const objects = new MemoryObjectStore();
    await populate(objects);
    const wd = workingDirectory();
    cleanups.push(wd.remove);
    let now = Number(NOW / MS);
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    cleanups.push(() => openGate());
    const store = new LogStore(objects, PERIODS, { waitBeforeDelete: () => gate });
    const { compactor, metrics } = compactorFixture({ store, workingDirectory: wd.dir, now: () => now, ...RETENTION });

    const run = await compactor.runCompaction(true);
    expect(run).toMatchObject({ tables: 3, compacted: 3, mergedFiles: 6, markedChunks: 4, deletedTables: 2, failedTables: 0 });
    // the index no longer names them at once; the chunks wait for the delay
    expect(await store.selectSeries('t', ALL, T0 - DAY, T0 + 2n * DAY)).toEqual([]);
    expect(await objects.list('chunks/')).toHaveLength(5);
    expect(await compactor.sweep()).toEqual({ deleted: 0, kept: 0 });

    // past the delay, but the replaced files (which name them) are still there for slow readers: kept
    now += 2 * 3600_000 + 1;
    // (the chunk running into the next day was marked from both days' tables)
    expect(await compactor.sweep()).toEqual({ deleted: 0, kept: 4 });
    expect(await objects.list('chunks/')).toHaveLength(5);

    openGate();
    await run.oldFilesDeleted;
    expect(await compactor.sweep()).toEqual({ deleted: 4, kept: 0 });
    await expectRetained(objects, path.join(wd.dir, 'retention', 'markers'));

    const scrape = await metrics.registry.metrics();
    expect(scrape).toContain('loki_boltdb_shipper_retention_marker_table_processed_total{table="index_20412",user_id="t",action="deleted"} 1');
    expect(scrape).toContain('loki_boltdb_shipper_retention_marker_count_total{table="index_20412"} 3');
    expect(scrape).toContain('loki_compactor_apply_retention_operation_total{status="success"} 1');
    expect(scrape).toMatch(/loki_compactor_apply_retention_last_successful_run_timestamp_seconds \d+/);
    expect(scrape).toContain('loki_boltdb_shipper_retention_sweeper_marker_files_deleted_total 2');
  });

  it('keeps data for ever with retention_period 0, and only compacts without retention_enabled', async () => {
    for (const settings of [
      { ...RETENTION, limitsYaml: '{}' },
      { ...RETENTION, compactorYaml: '{}' },
    ]) {
      const objects = new MemoryObjectStore();
      await populate(objects);
      const wd = workingDirectory();
      cleanups.push(wd.remove);
      const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
      const { compactor } = compactorFixture({ store, workingDirectory: wd.dir, now: () => Number(NOW / MS) + 30 * 86_400_000, ...settings });
      await (
        await compactor.runCompaction(true)
      ).oldFilesDeleted;
      expect(await objects.list('chunks/')).toHaveLength(5);
      expect(await store.selectSeries('t', ALL, T0, NOW)).toHaveLength(3);
    }
  });

  it('applies per-stream and per-tenant retention', async () => {
    const objects = new MemoryObjectStore();
    await populate(objects);
    const wd = workingDirectory();
    cleanups.push(wd.remove);
    const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
    // globally 24h, but the pod="p" stream is kept 30 days
    const { compactor } = compactorFixture({
      store,
      workingDirectory: wd.dir,
      now: () => Number(NOW / MS),
      ...RETENTION,
      limitsYaml: `{retention_period: 24h, retention_stream: [{selector: '{pod="p"}', priority: 1, period: 30d}]}`,
    });
    await (
      await compactor.runCompaction(true)
    ).oldFilesDeleted;
    const left = await store.selectSeries('t', ALL, T0 - DAY, T0 + 2n * DAY);
    expect(left.map((s) => s.fingerprint)).toEqual([OLD[1]!.fingerprint]);
  });

  it('asks the optional deletes hook once per table and tenant with the merged series, and marks the chunks it drops', async () => {
    const objects = new MemoryObjectStore();
    await populate(objects);
    const wd = workingDirectory();
    cleanups.push(wd.remove);
    let now = Number(NOW / MS);
    const asked: string[] = [];
    const deletes: TableDeletes = {
      async apply(table, list) {
        asked.push(`${table.name}/${table.tenant}: ${list.flatMap((s) => s.chunks).length} chunks`);
        // a delete of the fresh stream's first chunk
        const dropped = list.flatMap((s) => s.chunks.filter((c) => c.from === FRESH[0]!.chunks[0]!.from));
        return { series: list.map((s) => ({ ...s, chunks: s.chunks.filter((c) => !dropped.includes(c)) })), deletedChunks: dropped };
      },
    };
    const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
    const { compactor } = compactorFixture({ store, workingDirectory: wd.dir, now: () => now, deletes, ...RETENTION });
    await (
      await compactor.runCompaction(false)
    ).oldFilesDeleted;
    expect(asked).toEqual([]); // deletes run with retention, as in Loki
    await (
      await compactor.runCompaction(true)
    ).oldFilesDeleted;
    // retention went first: the old tables had nothing left to ask about
    expect(asked).toEqual(['index_20422/t: 2 chunks']);
    now += 2 * 3600_000 + 1;
    expect(await compactor.sweep()).toEqual({ deleted: 5, kept: 0 });
    const left = FRESH[0]!.chunks.slice(1);
    expect(await objects.list('chunks/')).toEqual(left.map((c) => chunkKey('t', c)));
    expect((await store.selectSeries('t', ALL, NOW - DAY, NOW)).flatMap((s) => s.chunks)).toEqual(left);
  });

  it('survives a store that fails at any write of the run and the sweep: a restart finishes it, nothing inside retention is lost', async () => {
    const total = await writesOfAWholeRun();
    expect(total).toBeGreaterThan(8);
    for (let budget = 0; budget < total; budget++) {
      const objects = new MemoryObjectStore();
      await populate(objects);
      const wd = workingDirectory();
      cleanups.push(wd.remove);
      let now = Number(NOW / MS);
      const failing = new FailingWritesStore(objects, budget);
      const first = compactorFixture({
        store: new LogStore(failing, PERIODS, { waitBeforeDelete: async () => {} }),
        workingDirectory: wd.dir,
        now: () => now,
        ...RETENTION,
      });
      const run = await first.compactor.runCompaction(true).catch(() => undefined);
      await run?.oldFilesDeleted.catch(() => {});
      now += 3 * 3600_000;
      await first.compactor.sweep().catch(() => {});
      expect(failing.failed, `budget ${budget}`).toBe(true);
      await everyIndexedChunkExists(objects);
      for (const key of keysOf(FRESH)) expect((await objects.get(key)).toString()).toBe(`bytes of ${key}`);

      // the restart: a new process over the same store and working directory
      const second = compactorFixture({
        store: new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} }),
        workingDirectory: wd.dir,
        now: () => now,
        ...RETENTION,
      });
      await (
        await second.compactor.runCompaction(true)
      ).oldFilesDeleted;
      now += 3 * 3600_000;
      await second.compactor.sweep();
      await everyIndexedChunkExists(objects);
      await expectRetained(objects, path.join(wd.dir, 'retention', 'markers'));
    }
  });
});

/** How many puts and deletes one retention run and sweep make over the populated store. */
async function writesOfAWholeRun(): Promise<number> {
  const objects = new MemoryObjectStore();
  await populate(objects);
  const wd = workingDirectory();
  cleanups.push(wd.remove);
  let now = Number(NOW / MS);
  const counting = new FailingWritesStore(objects, Number.MAX_SAFE_INTEGER);
  const { compactor } = compactorFixture({
    store: new LogStore(counting, PERIODS, { waitBeforeDelete: async () => {} }),
    workingDirectory: wd.dir,
    now: () => now,
    ...RETENTION,
  });
  await (
    await compactor.runCompaction(true)
  ).oldFilesDeleted;
  now += 3 * 3600_000;
  await compactor.sweep();
  await expectRetained(objects, path.join(wd.dir, 'retention', 'markers'));
  return counting.writes;
}

describe('retention on S3 (s3rver on 127.0.0.1)', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(() => s3?.stop());

  it('compacts, marks, sweeps and drops empty tables the same way', async () => {
    const objects = await s3.newStore();
    await populate(objects);
    const wd = workingDirectory();
    cleanups.push(wd.remove);
    let now = Number(NOW / MS);
    const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
    const { compactor } = compactorFixture({ store, workingDirectory: wd.dir, now: () => now, ...RETENTION });
    const run = await compactor.runCompaction(true);
    expect(run).toMatchObject({ compacted: 3, markedChunks: 4, deletedTables: 2, failedTables: 0 });
    await run.oldFilesDeleted;
    now += 2 * 3600_000 + 1;
    expect(await compactor.sweep()).toEqual({ deleted: 4, kept: 0 });
    await expectRetained(objects, path.join(wd.dir, 'retention', 'markers'));
  });
});
