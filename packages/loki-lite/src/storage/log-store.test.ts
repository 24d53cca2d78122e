import { describe, expect, it } from 'vitest';
import { LogStore } from './log-store.js';
import { MemoryObjectStore } from './memory/memory-store.js';
import { DAY, series, T0, writeIndex } from './testing/index-fixture.js';

describe('LogStore tables for the compactor', () => {
  it('lists the tables of a tenant, the tables of a period and the files of a table, leaving out objects not of loki-lite', async () => {
    const objects = new MemoryObjectStore();
    const store = new LogStore(objects, [{ from: 0n, prefix: 'old_' }, { from: T0 + DAY, prefix: 'new_' }]);
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

});
