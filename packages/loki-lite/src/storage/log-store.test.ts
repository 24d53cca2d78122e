import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chunkIdentity, SeriesUnion } from '../index/merge.js';
import type { SeriesChunks } from '../index/types.js';
import { newLabelMatcher } from '@loki-lite/shared';
import { FsObjectStore } from './fs/fs-store.js';
import { type IndexTable, LogStore, type LogStoreOptions } from './log-store.js';
import { MemoryObjectStore } from './memory/memory-store.js';
import { ObjectNotFoundError, type ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3/s3-store.js';
import { DAY, series, T0, writeIndex } from './testing/index-fixture.js';
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from './testing/s3rver.js';

const PERIODS = [{ from: 0n, prefix: 'index_' }];
const TABLE: IndexTable = { name: 'index_20412', period: 20412, tenant: 't' };
const HOUR_MS = 3_600_000;

/** What a query of every series of tenant t on T0's day answers: each series with the identities of its chunks. */
async function answer(store: LogStore): Promise<string[]> {
  const out: SeriesChunks[] = await store.selectSeries('t', [newLabelMatcher('app', '=~', '.+')], T0, T0 + DAY - 1n);
  return out.map((s) => `${s.labels.map((l) => `${l.name}=${l.value}`).join(',')} ${s.chunks.map(chunkIdentity).join(' ')}`).sort();
}

/** Three index files of table T0/t, as three index cuts write them; the ref of app=b is in two of them. */
async function writeThreeCuts(objects: ObjectStore): Promise<void> {
  const ingester = new LogStore(objects, PERIODS);
  await writeIndex(ingester, 't', [series('{app="a"}', [T0, T0 + 10n]), series('{app="b"}', [T0 + 5n, T0 + 6n])]);
  await writeIndex(ingester, 't', [series('{app="a"}', [T0 + 20n, T0 + 30n])]);
  await writeIndex(ingester, 't', [series('{app="b"}', [T0 + 5n, T0 + 6n]), series('{app="c"}', [T0 + 40n, T0 + 50n])]);
}

const EXPECTED = [`app=a ${T0}:${T0 + 10n}:1000 ${T0 + 20n}:${T0 + 30n}:1000`, `app=b ${T0 + 5n}:${T0 + 6n}:1000`, `app=c ${T0 + 40n}:${T0 + 50n}:1000`];

/** The union of a table's files, as a compactor makes the file that replaces them. */
async function mergedTable(store: LogStore, keys: readonly string[]): Promise<SeriesChunks[]> {
  const union = new SeriesUnion();
  for (const key of keys) union.add(await store.readIndexFile(key));
  return union.result();
}

function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { wait: () => opened, open };
}

/**
 * A memory store that counts listings, can run a step right after the next listing was taken (before its
 * caller sees it), and can fail reads of keys as if they were gone although they are still listed.
 */
class ObservedStore extends MemoryObjectStore {
  lists = 0;
  afterNextList: (() => Promise<void>) | undefined;
  readonly unreadable = new Set<string>();

  override async list(prefix: string): Promise<string[]> {
    this.lists++;
    const keys = await super.list(prefix);
    const step = this.afterNextList;
    this.afterNextList = undefined;
    await step?.();
    return keys;
  }

  override async get(key: string): Promise<Buffer> {
    if (this.unreadable.has(key)) throw new ObjectNotFoundError(key);
    return super.get(key);
  }
}

const roots: string[] = [];
let s3: S3rverHandle | undefined;
let s3Clients: S3ObjectStore[] = [];
let buckets = 0;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterEach(() => {
  s3Clients.forEach((c) => c.destroy());
  s3Clients = [];
});
afterAll(async () => {
  roots.forEach((r) => rmSync(r, { recursive: true, force: true }));
  await s3?.stop();
});

/** The object store a reader uses and the one a compactor in another process uses, on the same data. */
type StorePair = () => Promise<{ reader: ObjectStore; compactor: ObjectStore }>;
const pairs: Array<[string, StorePair]> = [
  [
    'memory (one store for both)',
    async () => {
      const objects = new MemoryObjectStore();
      return { reader: objects, compactor: objects };
    },
  ],
  [
    'filesystem (two stores on one folder)',
    async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'log-store-'));
      roots.push(root);
      return { reader: new FsObjectStore(root), compactor: new FsObjectStore(root) };
    },
  ],
  [
    's3 (two clients of one bucket on s3rver)',
    async () => {
      const bucket = `swap-${++buckets}`;
      await s3!.createBucket(bucket);
      const client = () =>
        new S3ObjectStore({
          bucket,
          region: 'us-east-1',
          endpoint: s3!.endpoint,
          forcePathStyle: true,
          insecure: true,
          ...S3RVER_CREDENTIALS,
          sessionToken: '',
        });
      s3Clients.push(client(), client());
      return { reader: s3Clients[0]!, compactor: s3Clients[1]! };
    },
  ],
];

describe.each(pairs)('LogStore index swap on %s', (_name, makePair) => {
  it('a reader with a warm listing answers the same series and chunks before, during and after another process replaces the table', async () => {
    const { reader: readerObjects, compactor: compactorObjects } = await makePair();
    await writeThreeCuts(readerObjects);
    // One reader keeps parsed files, one must read every listed file again on each query (its cache is full).
    const listingOnly = new LogStore(readerObjects, PERIODS, { listingTtlMs: HOUR_MS, indexCacheSize: 0 });
    const cached = new LogStore(readerObjects, PERIODS, { listingTtlMs: HOUR_MS });
    expect(await answer(listingOnly)).toEqual(EXPECTED);
    expect(await answer(cached)).toEqual(EXPECTED);

    const deleteGate = gate();
    const delays: number[] = [];
    const compactor = new LogStore(compactorObjects, PERIODS, {
      replacedIndexDeleteDelayMs: 7_000,
      waitBeforeDelete: (ms) => (delays.push(ms), deleteGate.wait()),
    });
    const oldKeys = await compactor.listTableFiles(TABLE);
    expect(oldKeys.length).toBe(3);
    const replaced = await compactor.replaceIndexFiles(TABLE, oldKeys, await mergedTable(compactor, oldKeys));

    // During the swap the old files and the merged one are all stored: whoever lists now sees each chunk once.
    expect(await compactor.listTableFiles(TABLE)).toEqual([...oldKeys, replaced.key].sort());
    expect(delays).toEqual([7_000]);
    for (const store of [listingOnly, cached, compactor, new LogStore(readerObjects, PERIODS)]) expect(await answer(store)).toEqual(EXPECTED);

    deleteGate.open();
    await replaced.oldFilesDeleted;
    expect(await compactor.listTableFiles(TABLE)).toEqual([replaced.key]);
    // listingOnly's listing still names only the deleted files: it lists again and reads the merged one.
    for (const store of [listingOnly, cached, compactor, new LogStore(readerObjects, PERIODS)]) expect(await answer(store)).toEqual(EXPECTED);
  });
});

const immediately: LogStoreOptions = { waitBeforeDelete: async () => {} };

describe('LogStore reading a table whose files vanish', () => {
  it('lists the table again when a listed file is gone by the time it is read', async () => {
    const objects = new ObservedStore();
    await writeThreeCuts(objects);
    const reader = new LogStore(objects, PERIODS, { listingTtlMs: HOUR_MS });
    const compactor = new LogStore(objects, PERIODS, immediately);
    // the reader's listing is taken, then the compactor replaces and deletes every file it names
    objects.afterNextList = async () => {
      const keys = await compactor.listTableFiles(TABLE);
      await (
        await compactor.replaceIndexFiles(TABLE, keys, await mergedTable(compactor, keys))
      ).oldFilesDeleted;
    };
    expect(await answer(reader)).toEqual(EXPECTED);
    expect(await objects.list('index/')).toHaveLength(1);
  });

  it('fails when a file is still gone after listing the table afresh, having listed once more only', async () => {
    const objects = new ObservedStore();
    await writeThreeCuts(objects);
    const reader = new LogStore(objects, PERIODS, { listingTtlMs: HOUR_MS });
    objects.unreadable.add((await objects.list('index/'))[1]!);
    objects.lists = 0;
    await expect(answer(reader)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(objects.lists).toBe(2);
  });

  it('sees its own swap at once: its listing names the merged file, not the replaced ones', async () => {
    const objects = new ObservedStore();
    await writeThreeCuts(objects);
    const compactor = new LogStore(objects, PERIODS, { listingTtlMs: HOUR_MS, indexCacheSize: 0, waitBeforeDelete: () => new Promise(() => {}) });
    expect(await answer(compactor)).toEqual(EXPECTED);
    const keys = await compactor.listTableFiles(TABLE);
    await compactor.replaceIndexFiles(TABLE, keys, await mergedTable(compactor, keys));
    // Reading a replaced file would fail now; a listing taken again would be counted.
    keys.forEach((k) => objects.unreadable.add(k));
    objects.lists = 0;
    expect(await answer(compactor)).toEqual(EXPECTED);
    expect(objects.lists).toBe(0);
  });
});

describe('LogStore tables for the compactor', () => {
  it('lists the tables of a tenant, the tables of a period and the files of a table, leaving out objects not of loki-lite', async () => {
    const objects = new MemoryObjectStore();
    const store = new LogStore(objects, [
      { from: 0n, prefix: 'old_' },
      { from: T0 + DAY, prefix: 'new_' },
    ]);
    await writeIndex(store, 't1', [series('{app="a"}', [T0, T0 + 1n], [T0 + DAY, T0 + DAY + 1n])]);
    await writeIndex(store, 't2', [series('{app="a"}', [T0, T0 + 1n])]);
    await objects.put('index/old_20412/t1/loki-file.tsdb.gz', Buffer.from('a file of Loki in a shared bucket'));
    await objects.put('index/foreign_20412/t3/1-ab-1.tsdb', Buffer.from('no schema period has this prefix'));

    expect(await store.listTables('t1')).toEqual([
      { name: 'old_20412', period: 20412, tenant: 't1' },
      { name: 'new_20413', period: 20413, tenant: 't1' },
    ]);
    expect(await store.listTables('t3')).toEqual([]);
    const period = await store.listPeriodTables(20412);
    expect(period.sort((a, b) => a.tenant.localeCompare(b.tenant))).toEqual([
      { name: 'old_20412', period: 20412, tenant: 't1' },
      { name: 'old_20412', period: 20412, tenant: 't2' },
    ]);
    const files = await store.listTableFiles({ name: 'old_20412', period: 20412, tenant: 't1' });
    expect(files).toHaveLength(1);
    expect((await store.readIndexFile(files[0]!)).map((s) => s.chunks.length)).toEqual([1]);
  });

  it('replaces only the files it is given: a file an ingester wrote after the compactor listed stays', async () => {
    const objects = new MemoryObjectStore();
    await writeThreeCuts(objects);
    const compactor = new LogStore(objects, PERIODS, immediately);
    const keys = await compactor.listTableFiles(TABLE);
    await writeIndex(new LogStore(objects, PERIODS), 't', [series('{app="d"}', [T0 + 60n, T0 + 70n])]);
    const replaced = await compactor.replaceIndexFiles(TABLE, keys, await mergedTable(compactor, keys));
    await replaced.oldFilesDeleted;
    expect(await compactor.listTableFiles(TABLE)).toHaveLength(2);
    expect(await answer(new LogStore(objects, PERIODS))).toEqual([...EXPECTED, `app=d ${T0 + 60n}:${T0 + 70n}:1000`]);
  });

  it('replaces a table by nothing when no series are left: the files go after the delay and so does the table', async () => {
    const objects = new MemoryObjectStore();
    await writeThreeCuts(objects);
    const reader = new LogStore(objects, PERIODS, { listingTtlMs: HOUR_MS, indexCacheSize: 0 });
    expect(await answer(reader)).toEqual(EXPECTED);
    const compactor = new LogStore(objects, PERIODS, immediately);
    const replaced = await compactor.replaceIndexFiles(TABLE, await compactor.listTableFiles(TABLE), []);
    expect(replaced.key).toBeUndefined();
    await replaced.oldFilesDeleted;
    expect(await compactor.listTables('t')).toEqual([]);
    expect(await answer(reader)).toEqual([]);
  });

  it('refuses to replace a file of another table or an object that is not an index file, writing nothing', async () => {
    const objects = new MemoryObjectStore();
    await writeThreeCuts(objects);
    const compactor = new LogStore(objects, PERIODS, immediately);
    const before = await objects.list('');
    await expect(compactor.replaceIndexFiles(TABLE, ['index/index_20413/t/1-ab-1.tsdb'], [])).rejects.toThrow('is not an index file of table index_20412');
    await expect(compactor.replaceIndexFiles(TABLE, ['index/index_20412/t/loki.tsdb.gz'], [])).rejects.toThrow('is not an index file');
    expect(await objects.list('')).toEqual(before);
  });
});
