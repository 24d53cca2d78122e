import { describe, expect, it } from 'vitest';
import { type LabelMatcher, newLabelMatcher } from '@loki-lite/shared';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import { LogStore } from '../storage/log-store.js';
import { decodeIndex, encodeIndex } from './format.js';
import { selectSeries } from './select.js';
import type { SeriesChunks } from './types.js';
import { SlowListStore } from '../testing/slow-list-store.js';
import { DAY, series, T0, writeIndex } from '../storage/testing/index-fixture.js';

const all = [
  series('{app="api", env="prod", pod="api-1"}', [T0, T0 + 10n], [T0 + 20n, T0 + 30n]),
  series('{app="api", env="dev", pod="api-2"}', [T0 + 5n, T0 + 6n]),
  series('{app="db", env="prod"}', [T0 + 100n, T0 + 200n]),
  series('{app="web", team="x"}', [T0 + 1n, T0 + 2n]),
];
const m = (name: string, type: LabelMatcher['type'], value: string) => newLabelMatcher(name, type, value);
const names = (out: SeriesChunks[]) => out.map((s) => s.labels.map((l) => `${l.name}=${l.value}`).join(',')).sort();

describe('index file', () => {
  const file = decodeIndex(encodeIndex(all));

  it('round-trips series, labels and chunk refs', () => {
    expect(new Set(file.series)).toEqual(new Set(all));
    expect(file.postings.get('app')?.get('api')?.length).toBe(2);
  });

  it.each<[string, LabelMatcher[], number]>([
    ['=', [m('app', '=', 'api')], 2],
    ['= and =', [m('app', '=', 'api'), m('env', '=', 'prod')], 1],
    ['=~ anchored', [m('app', '=~', 'ap')], 0],
    ['=~', [m('app', '=~', 'api|db')], 3],
    ['!= keeps series without the label', [m('app', '=~', '.+'), m('env', '!=', 'prod')], 2],
    ['!~', [m('app', '=~', '.+'), m('env', '!~', 'pro.*')], 2],
    ['matcher on a missing label that matches empty', [m('app', '=~', '.+'), m('team', '=', '')], 3],
    ['(?i)', [m('app', '=~', '(?i)API')], 2],
    ['no such value', [m('app', '=', 'nope')], 0],
  ])('selects with %s', (_what, matchers, count) => {
    expect(selectSeries(file, matchers, T0, T0 + 1000n).length).toBe(count);
  });

  it('keeps only chunks overlapping the time range (inclusive bounds)', () => {
    const out = selectSeries(file, [m('pod', '=', 'api-1')], T0 + 10n, T0 + 19n);
    expect(out[0]!.chunks.map((c) => c.from)).toEqual([T0]);
    expect(selectSeries(file, [m('app', '=', 'db')], T0, T0 + 99n)).toEqual([]);
  });

  it('rejects corrupt files', () => {
    const bytes = encodeIndex(all);
    bytes[30]! ^= 1;
    expect(() => decodeIndex(bytes)).toThrow('checksum mismatch');
    expect(() => decodeIndex(Buffer.alloc(40))).toThrow('bad magic');
  });
});

describe('LogStore index', () => {
  it('writes a file per period touched and reads the union back, a cross-midnight chunk once', async () => {
    const objects = new MemoryObjectStore();
    const store = new LogStore(objects, [{ from: 0n, prefix: 'index_' }]);
    await writeIndex(store, 't1', [series('{app="a"}', [T0 + DAY - 10n, T0 + DAY + 10n])]);
    await writeIndex(store, 't1', [series('{app="a"}', [T0 + DAY + 20n, T0 + DAY + 30n]), series('{app="b"}', [T0, T0 + 1n])]);
    await writeIndex(store, 't2', [series('{app="secret"}', [T0, T0 + 1n])]);
    const keys = await objects.list('index/');
    expect(keys.filter((k) => k.startsWith('index/index_20412/t1/')).length).toBe(2);
    expect(keys.filter((k) => k.startsWith('index/index_20413/t1/')).length).toBe(2);

    // a fresh reader sees what the writer wrote
    const reader = new LogStore(objects, [{ from: 0n, prefix: 'index_' }]);
    const a = await reader.selectSeries('t1', [m('app', '=', 'a')], T0, T0 + 2n * DAY);
    expect(a.length).toBe(1);
    expect(a[0]!.chunks.length).toBe(2);
    expect(names(await reader.selectSeries('t1', [m('app', '=~', '.+')], T0, T0 + 2n * DAY))).toEqual(['app=a', 'app=b']);
    expect(names(await reader.selectSeries('t2', [m('app', '=~', '.+')], T0, T0 + 2n * DAY))).toEqual(['app=secret']);
  });

  it('does not keep a table listing that a write of its own raced: the file would be missing until it expires', async () => {
    const objects = new SlowListStore();
    const store = new LogStore(objects, [{ from: 0n, prefix: 'index_' }], { listingTtlMs: 60_000 });
    await writeIndex(store, 't', [series('{app="a"}', [T0, T0 + 1n])]);
    const select = () => store.selectSeries('t', [m('app', '=~', '.+')], T0, T0 + 10n);
    const racing = select(); // lists the table before the next file is written...
    await new Promise((r) => setImmediate(r));
    await writeIndex(store, 't', [series('{app="b"}', [T0 + 2n, T0 + 3n])]); // ...which is written meanwhile
    objects.release();
    expect(names(await racing)).toEqual(['app=a']);
    const after = select();
    await new Promise((r) => setImmediate(r));
    objects.release();
    expect(names(await after)).toEqual(['app=a', 'app=b']);
  });

  it('uses the prefix of the schema period in force', async () => {
    const objects = new MemoryObjectStore();
    const store = new LogStore(objects, [
      { from: 0n, prefix: 'old_' },
      { from: T0 + DAY, prefix: 'new_' },
    ]);
    await writeIndex(store, 't', [series('{app="a"}', [T0, T0 + 1n], [T0 + DAY, T0 + DAY + 1n])]);
    expect((await objects.list('index/')).map((k) => k.split('/')[1])).toEqual(['new_20413', 'old_20412']);
    expect((await store.selectSeries('t', [m('app', '=', 'a')], T0, T0 + 2n * DAY))[0]!.chunks.length).toBe(2);
  });
});
