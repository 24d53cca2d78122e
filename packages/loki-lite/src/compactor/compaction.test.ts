import { afterEach, describe, expect, it } from 'vitest';
import { RecordingLogger } from '../testing/recording-logger.js';
import { compactorFixture, workingDirectory } from '../testing/compactor-fixture.js';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import { LogStore } from '../storage/log-store.js';
import { DAY, T0, series, writeIndex } from '../storage/testing/index-fixture.js';
import type { Ticker } from '../util/ticker.js';

const PERIODS = [{ from: 0n, prefix: 'index_' }];
const ALL = [{ name: '__name__', type: '=~' as const, value: '.+', matches: () => true }];
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A gate the store's delete of replaced files waits on: the test decides when "later" is. */
function deleteGate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { wait: () => opened, open };
}

function setUp() {
  const objects = new MemoryObjectStore();
  const gate = deleteGate();
  const writer = new LogStore(objects, PERIODS, { waitBeforeDelete: gate.wait });
  const wd = workingDirectory();
  cleanups.push(wd.remove, gate.open);
  return { objects, gate, writer, wd };
}

/** Five cuts of one day of two streams, with a chunk listed by two files (an ingester's retried cut). */
async function fiveCuts(store: LogStore): Promise<void> {
  const h = 3_600_000_000_000n;
  await writeIndex(store, 't', [series('{app="a"}', [T0, T0 + h])]);
  await writeIndex(store, 't', [series('{app="a"}', [T0, T0 + h], [T0 + 2n * h, T0 + 3n * h])]);
  await writeIndex(store, 't', [series('{app="b"}', [T0 + h, T0 + 2n * h])]);
  await writeIndex(store, 't', [series('{app="b", pod="x"}', [T0 + 4n * h, T0 + 5n * h])]);
  await writeIndex(store, 't', [series('{app="c"}', [T0 + 23n * h, T0 + 25n * h])]);
}

const tableOf = (period: number, tenant = 't') => ({ name: `index_${period}`, period, tenant });

describe('index compaction', () => {
  it('merges a tenant table of N files into one, and queries answer the same before, during and after the swap', async () => {
    const { objects, gate, writer, wd } = setUp();
    await fiveCuts(writer);
    // another process's reader, with a listing it keeps for a minute
    const reader = new LogStore(objects, PERIODS, { listingTtlMs: 60_000 });
    const query = (store: LogStore) => store.selectSeries('t', ALL, T0 - DAY, T0 + 2n * DAY);
    const before = await query(reader);
    expect(before.flatMap((s) => s.chunks)).toHaveLength(5);
    const day = tableOf(20412);
    const oldKeys = await writer.listTableFiles(day);
    expect(oldKeys).toHaveLength(5);

    const log = new RecordingLogger('info');
    const { compactor, metrics } = compactorFixture({ store: writer, workingDirectory: wd.dir, log });
    const summary = await compactor.runCompaction(false);
    expect(summary).toMatchObject({ tables: 2, compacted: 1, mergedFiles: 5, markedChunks: 0, failedTables: 0 });

    // during: the merged file is published, the old ones are still there for readers that listed them
    const during = await writer.listTableFiles(day);
    expect(during).toHaveLength(6);
    expect(await query(reader)).toEqual(before);
    expect(await query(new LogStore(objects, PERIODS))).toEqual(before);
    expect(await query(writer)).toEqual(before);

    gate.open();
    await summary.oldFilesDeleted;
    const after = await writer.listTableFiles(day);
    expect(after).toHaveLength(1);
    expect(oldKeys).not.toContain(after[0]);
    // the reader's cached listing names files that are gone: it lists again and reads the merged one
    expect(await query(reader)).toEqual(before);
    expect(await query(new LogStore(objects, PERIODS))).toEqual(before);
    // the chunk that runs into the next day is in that table too, alone in its file: left as it is
    expect(await writer.listTableFiles(tableOf(20413))).toHaveLength(1);

    expect(await metrics.registry.getSingleMetricAsString('loki_boltdb_shipper_compact_tables_operation_total')).toContain('status="success"} 1');
    expect(log.withMsg(/^compaction run finished$/)[0]!.fields).toMatchObject({ tables: 2, compacted: 1, merged_files: 5 });
    expect(log.withMsg(/^compacting table$/).map((l) => l.fields['table-name'])).toEqual(['index_20413', 'index_20412']);
  });

  it('leaves a table of one file with nothing to remove as it is, and keeps files that arrive during the run', async () => {
    const { gate, writer, wd } = setUp();
    gate.open();
    await fiveCuts(writer);
    const { compactor } = compactorFixture({ store: writer, workingDirectory: wd.dir });
    await (
      await compactor.runCompaction(false)
    ).oldFilesDeleted;
    const day = tableOf(20412);
    const [merged] = await writer.listTableFiles(day);
    const again = await compactor.runCompaction(false);
    expect(again).toMatchObject({ compacted: 0, mergedFiles: 0 });
    expect(await writer.listTableFiles(day)).toEqual([merged]);

    // a new cut from an ingester: merged with the compacted file at the next run
    await writeIndex(writer, 't', [series('{app="d"}', [T0 + 1n, T0 + 2n])]);
    await (
      await compactor.runCompaction(false)
    ).oldFilesDeleted;
    const files = await writer.listTableFiles(day);
    expect(files).toHaveLength(1);
    expect((await writer.readIndexFile(files[0]!)).map((s) => s.labels.find((l) => l.name === 'app')!.value).sort()).toEqual(['a', 'b', 'b', 'c', 'd']);
  });

  it('compacts each tenant of a table on its own', async () => {
    const { gate, writer, wd } = setUp();
    gate.open();
    for (const tenant of ['t1', 't2']) {
      await writeIndex(writer, tenant, [series('{app="a"}', [T0, T0 + 1n])]);
      await writeIndex(writer, tenant, [series('{app="b"}', [T0, T0 + 1n])]);
    }
    const { compactor } = compactorFixture({ store: writer, workingDirectory: wd.dir });
    await (
      await compactor.runCompaction(false)
    ).oldFilesDeleted;
    for (const tenant of ['t1', 't2']) {
      expect(await writer.listTableFiles(tableOf(20412, tenant))).toHaveLength(1);
      expect(await writer.selectSeries(tenant, ALL, T0, T0 + 1n)).toHaveLength(2);
    }
  });

  it('runs at start and every compaction_interval, and stops cleanly', async () => {
    const { gate, writer, wd } = setUp();
    gate.open();
    const ticks: Array<{ ms: number; fn: () => void; stopped: boolean }> = [];
    const ticker: Ticker = (ms, fn) => {
      const t = { ms, fn, stopped: false };
      ticks.push(t);
      return () => (t.stopped = true);
    };
    const log = new RecordingLogger('debug');
    const { compactor } = compactorFixture({ store: writer, workingDirectory: wd.dir, ticker, log, compactorYaml: '{compaction_interval: 3m}' });
    const runs = () => log.withMsg(/^compaction run finished$/).length;
    compactor.start();
    expect(ticks.map((t) => t.ms)).toEqual([180_000]);
    await waitFor(() => runs() === 1);
    await writeIndex(writer, 't', [series('{app="a"}', [T0, T0 + 1n])]);
    await writeIndex(writer, 't', [series('{app="b"}', [T0, T0 + 1n])]);
    ticks[0]!.fn();
    await waitFor(() => runs() === 2);
    expect(log.withMsg(/^compaction run finished$/)[1]!.fields).toMatchObject({ compacted: 1, merged_files: 2 });
    await compactor.stop();
    expect(ticks[0]!.stopped).toBe(true);
    await expect(compactor.runCompaction(false)).rejects.toThrow('compactor stopped');
  });

  it('joins runs asked for while one of their kind waits (as missed ticks): ten asks make one more run, not ten', async () => {
    const { objects, gate, writer, wd } = setUp();
    gate.open();
    await writeIndex(writer, 't', [series('{app="a"}', [T0, T0 + 1n])]);
    await writeIndex(writer, 't', [series('{app="b"}', [T0, T0 + 1n])]);
    const { readStarted, release } = holdReads(objects);
    const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
    const log = new RecordingLogger('debug');
    const { compactor } = compactorFixture({ store, workingDirectory: wd.dir, log });
    const runs = () => log.withMsg(/^compaction run finished$/).length;
    const first = compactor.runCompaction(false);
    await readStarted; // the first run holds its first read
    const missed = Array.from({ length: 10 }, () => compactor.runCompaction(false));
    expect(new Set(missed).size).toBe(1);
    release();
    await Promise.all([first, ...missed]);
    expect(runs()).toBe(2);
    await compactor.stop();
  });

  it('stops between tables: the table in progress finishes, the rest is left for the next start', async () => {
    const { objects, gate, writer, wd } = setUp();
    gate.open();
    for (let p = 0; p < 3; p++) {
      for (const app of ['a', 'b']) await writeIndex(writer, 't', [series(`{app="${app}"}`, [T0 + BigInt(p) * DAY, T0 + BigInt(p) * DAY + 1n])]);
    }
    // the run's first read of an index file waits until the test has asked the compactor to stop
    const { readStarted, release } = holdReads(objects);
    const store = new LogStore(objects, PERIODS, { waitBeforeDelete: async () => {} });
    const { compactor, metrics } = compactorFixture({ store, workingDirectory: wd.dir });
    const run = compactor.runCompaction(false);
    await readStarted;
    const stopped = compactor.stop();
    release();
    await stopped;
    const summary = await run;
    expect(summary).toMatchObject({ tables: 3, compacted: 1, abandonedTables: 2 });
    // cut short, the run is neither a success (no last-success timestamp for alerts to trust) nor a failure
    const operations = (await metrics.registry.getSingleMetricAsString('loki_boltdb_shipper_compact_tables_operation_total')).split('\n');
    expect(operations.filter((l) => !l.startsWith('#'))).toEqual([]);
    await summary.oldFilesDeleted;
    const counts = async () => Promise.all([0, 1, 2].map(async (p) => (await store.listTableFiles(tableOf(20412 + p))).length));
    expect(await counts()).toEqual([2, 2, 1]);
    const next = compactorFixture({ store, workingDirectory: wd.dir }).compactor;
    await (
      await next.runCompaction(false)
    ).oldFilesDeleted;
    expect(await counts()).toEqual([1, 1, 1]);
  });
});

/** Makes every read of `objects` wait until `release()`; `readStarted` settles at the first one. */
function holdReads(objects: MemoryObjectStore): { readStarted: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reading!: () => void;
  const readStarted = new Promise<void>((r) => (reading = r));
  const get = objects.get.bind(objects);
  objects.get = async (key: string) => {
    reading();
    await released;
    return get(key);
  };
  return { readStarted, release };
}

/** Waits for the compactor's background run (its log line): a condition, not a time. */
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}
