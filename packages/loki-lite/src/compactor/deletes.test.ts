import { fingerprint, parseLabels } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkChecksum } from '../chunk/format.js';
import { MemChunk } from '../chunk/mem-chunk.js';
import { DeleteRequestStore } from '../deletion/store.js';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import { chunkKey, PERIOD_NS } from '../storage/keys.js';
import { LogStore } from '../storage/log-store.js';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { DAY, T0, writeIndex } from '../storage/testing/index-fixture.js';
import { storedChunkEntries } from '../testing/chunk-entries.js';
import { compactorFixture, FailingWritesStore, workingDirectory } from '../testing/compactor-fixture.js';

/*
 * Delete requests carried out by the compactor's retention runs, on real chunks: a selector-only request
 * drops whole chunks, one with a line filter has chunks written again without the matching lines (a chunk
 * spanning midnight in both of its tables), untouched streams stay byte for byte, and the request becomes
 * processed once every table is done; cancelled requests, requests still in their cancel period and
 * filter-only tenants delete nothing; a store failing at any write, then a restart, loses nothing else.
 */

const PERIODS = [{ from: 0n, prefix: 'index_' }];
const ALL = [{ name: 'app', type: '=~' as const, value: '.+', matches: () => true }];
const MS = 1_000_000n;
const SECOND = 1_000_000_000n;
const HOUR = 3_600n * SECOND;
/** Data on day T0+1 (and a stream running into T0+2); the requests are made two days later. */
const DAY1 = T0 + DAY;
const MIDNIGHT = T0 + 2n * DAY;
const NOW_MS = Number((T0 + 5n * DAY) / MS);
const CREATED_MS = NOW_MS - 2 * 86_400_000;
const SETTINGS = '{retention_enabled: true, delete_request_store: filesystem, retention_delete_delay: 2h}';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

interface Stream {
  readonly labels: string;
  readonly lines: ReadonlyArray<readonly [bigint, string]>;
}

/** Ten lines, ten seconds apart from `from`; `secret(i)` says which carry "secret". */
const tenLines = (from: bigint, name: string, secret: (i: number) => boolean) =>
  Array.from({ length: 10 }, (_, i) => [from + BigInt(i) * 10n * SECOND, secret(i) ? `secret ${name} ${i}` : `${name} ${i}`] as const);

const STREAMS: Stream[] = [
  { labels: '{app="a"}', lines: tenLines(DAY1 + HOUR, 'a', (i) => i % 2 === 1) },
  // runs over midnight: its secret lines are all before it, so what is left lies in the second day only
  { labels: '{app="a", pod="span"}', lines: tenLines(MIDNIGHT - 50n * SECOND, 'span', (i) => i < 5) },
  { labels: '{app="b"}', lines: tenLines(DAY1 + HOUR, 'b secret', () => true) },
  { labels: '{app="c"}', lines: tenLines(DAY1 + 2n * HOUR, 'c', () => false) },
];

/** Each stream's one chunk put and indexed (in every table it spans), as an ingester's flush does. */
async function populate(objects: ObjectStore): Promise<SeriesChunks[]> {
  const store = new LogStore(objects, PERIODS);
  const list: SeriesChunks[] = [];
  for (const s of STREAMS) {
    const labels = parseLabels(s.labels);
    const fp = fingerprint(labels);
    const c = new MemChunk('snappy', 256, 1 << 20);
    for (const [timestamp, line] of s.lines) c.append({ timestamp, line, structuredMetadata: [] });
    const bytes = c.encode();
    const ref: ChunkRef = {
      fingerprint: fp,
      from: c.minTs,
      through: c.maxTs,
      checksum: chunkChecksum(bytes),
      size: bytes.length,
      lineBytes: c.lineBytes,
      entries: c.entries,
    };
    await store.putChunk('t', ref, bytes);
    list.push({ labels, fingerprint: fp, chunks: [ref] });
  }
  await writeIndex(store, 't', list);
  return list;
}

/** The two requests of the tests: a line filter on app=a (both streams), and all of app=c. */
async function addRequests(requests: DeleteRequestStore): Promise<void> {
  const range = { startMs: Number(T0 / MS), endMs: Number(MIDNIGHT / MS) + 86_400_000 };
  await requests.add('t', { query: '{app="a"} |= "secret"', pieces: [range], intervalNs: 0n });
  await requests.add('t', { query: '{app="c"}', pieces: [range], intervalNs: 0n });
}

/** What a query reads: every line of every chunk the current index files name, by stream (throws on a missing chunk). */
async function storedLines(objects: ObjectStore): Promise<Record<string, string[]>> {
  const store = new LogStore(objects, PERIODS);
  const out: Record<string, Set<string>> = {};
  for (const s of await store.selectSeries('t', ALL, T0, T0 + 4n * DAY)) {
    const name = s.labels.map((l) => `${l.name}=${l.value}`).join(',');
    for (const c of s.chunks) {
      for (const e of storedChunkEntries(await store.getChunk('t', c), c.from, c.through + 1n)) (out[name] ??= new Set()).add(e.line);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

/** Each stream's lines that `pred` keeps, by stream name as storedLines names them (streams left empty out). */
function linesOf(pred: (line: string) => boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of STREAMS) {
    const kept = s.lines.map(([, line]) => line).filter(pred);
    const name = parseLabels(s.labels)
      .map((l) => `${l.name}=${l.value}`)
      .join(',');
    if (kept.length > 0) out[name] = kept.sort();
  }
  return out;
}
/** Every line, before any delete. */
const BEFORE = linesOf(() => true);
/** What the two requests leave: no app=a secret, no app=c (app=b's "secret" lines are another stream's). */
const AFTER = linesOf((line) => !/^secret (a|span) /.test(line) && !line.startsWith('c '));

async function chunkObjects(objects: ObjectStore): Promise<Map<string, Buffer>> {
  return new Map(await Promise.all((await objects.list('chunks/')).map(async (k) => [k, await objects.get(k)] as const)));
}

function setUp(opts: { limitsYaml?: string; compactorYaml?: string } = {}) {
  const objects = new MemoryObjectStore();
  const wd = workingDirectory();
  cleanups.push(wd.remove);
  let now = NOW_MS;
  const clock = {
    now: () => now,
    advance: (ms: number) => (now += ms),
  };
  const requests = new DeleteRequestStore(objects, { now: () => CREATED_MS });
  const compactor = (store: ObjectStore = objects) =>
    compactorFixture({
      store: new LogStore(store, PERIODS, { waitBeforeDelete: async () => {} }),
      workingDirectory: wd.dir,
      now: clock.now,
      compactorYaml: opts.compactorYaml ?? SETTINGS,
      deleteRequests: store === objects ? requests : new DeleteRequestStore(store),
      ...(opts.limitsYaml ? { limitsYaml: opts.limitsYaml } : {}),
    });
  return { objects, requests, clock, compactor };
}

async function runAndSweep(fixture: ReturnType<ReturnType<typeof setUp>['compactor']>, clock: ReturnType<typeof setUp>['clock']) {
  const run = await fixture.compactor.runCompaction(true);
  await run.oldFilesDeleted;
  clock.advance(2 * 3_600_000 + 1);
  return { run, sweep: await fixture.compactor.sweep() };
}

describe('delete requests in the compactor (filter-and-delete)', () => {
  it('drop whole chunks, rewrite chunks with matching lines, keep other streams byte for byte, then mark the requests processed', async () => {
    const { objects, requests, clock, compactor } = setUp();
    const indexed = await populate(objects);
    await addRequests(requests);
    const before = await chunkObjects(objects);
    const [a, span, b, c] = indexed.map((s) => chunkKey('t', s.chunks[0]!));

    const fixture = compactor();
    const run = await fixture.compactor.runCompaction(true);
    await run.oldFilesDeleted;
    expect(run.failedTables).toBe(0);
    // out of the index at once; the old objects wait for retention_delete_delay
    expect(await storedLines(objects)).toEqual(AFTER);
    expect([...(await chunkObjects(objects)).keys()]).toEqual(expect.arrayContaining([...before.keys()]));
    expect((await requests.forTenant('t')).map((p) => p.status)).toEqual(['processed', 'processed']);

    clock.advance(2 * 3_600_000 + 1);
    // (the spanning chunk was marked from both its tables, as retention marks such a chunk)
    expect(await fixture.compactor.sweep()).toEqual({ deleted: 4, kept: 0 });
    const after = await chunkObjects(objects);
    expect(after.has(a!) || after.has(span!) || after.has(c!)).toBe(false);
    expect(after.get(b!)!.equals(before.get(b!)!)).toBe(true);
    // b and the two rewritten chunks
    expect(after.size).toBe(3);
    expect(await storedLines(objects)).toEqual(AFTER);

    // The spanning chunk, rewritten, lies in the second day only: the first day's table no longer lists it.
    const store = new LogStore(objects, PERIODS);
    const spanSeries = (from: bigint, through: bigint) =>
      store.selectSeries('t', [{ name: 'pod', type: '=' as const, value: 'span', matches: (v: string) => v === 'span' }], from, through);
    const [rewritten] = (await spanSeries(MIDNIGHT, MIDNIGHT + DAY)).flatMap((s) => s.chunks);
    expect(rewritten!.from).toBeGreaterThanOrEqual(MIDNIGHT);
    const firstDay = (await store.listPeriodTables(Number(MIDNIGHT / PERIOD_NS) - 1)).filter((t) => t.tenant === 't');
    const firstDayRefs = [];
    for (const table of firstDay)
      for (const key of await store.listTableFiles(table)) firstDayRefs.push(...(await store.readIndexFile(key)).flatMap((s) => s.chunks));
    expect(firstDayRefs.map((r) => r.fingerprint).sort()).toEqual([indexed[0]!.fingerprint, indexed[2]!.fingerprint].sort());

    const scrape = await fixture.metrics.registry.metrics();
    expect(scrape).toContain('loki_compactor_delete_requests_processed_total{user="t"} 2');
    // a's five secrets, and span's five once per table that rewrote it
    expect(scrape).toContain('loki_compactor_deleted_lines{user="t"} 15');
    expect(scrape).toContain('loki_compactor_load_pending_requests_attempts_total{status="success"} 1');
    expect(scrape).toContain('loki_compactor_pending_delete_requests_count 0');

    // a second run finds nothing left to do
    expect((await runAndSweep(compactor(), clock)).sweep).toEqual({ deleted: 0, kept: 0 });
    expect(await storedLines(objects)).toEqual(AFTER);
  });

  it('take at most delete_batch_size requests per run, oldest range first, and count the rest as pending', async () => {
    const { objects, requests, clock, compactor } = setUp({ compactorYaml: SETTINGS.replace('}', ', delete_batch_size: 1}') });
    await populate(objects);
    await requests.add('t', { query: '{app="c"}', pieces: [{ startMs: Number(DAY1 / MS), endMs: Number(DAY1 / MS) + 86_400_000 }], intervalNs: 0n });
    await requests.add('t', { query: '{app="b"}', pieces: [{ startMs: Number(T0 / MS), endMs: Number(DAY1 / MS) + 86_400_000 }], intervalNs: 0n });
    const first = compactor();
    await runAndSweep(first, clock);
    expect(Object.fromEntries((await requests.forTenant('t')).map((p) => [p.query, p.status]))).toEqual({ '{app="b"}': 'processed', '{app="c"}': 'received' });
    const scrape = await first.metrics.registry.metrics();
    expect(scrape).toContain('loki_compactor_pending_delete_requests_count 1');
    // the one left has been due since the cancel period (24h) and a minute past its creation, two days ago
    expect(scrape).toMatch(/loki_compactor_oldest_pending_delete_request_age_seconds 8\d{4}\n/);
    await runAndSweep(compactor(), clock);
    expect((await requests.forTenant('t')).map((p) => p.status)).toEqual(['processed', 'processed']);
    expect(Object.keys(await storedLines(objects))).toEqual(['app=a', 'app=a,pod=span']);
  });
});

describe('delete requests beyond retention', () => {
  it('are marked processed without work, before the batch is cut (Loki: interval beyond the longest retention)', async () => {
    const { objects, requests, clock, compactor } = setUp({
      compactorYaml: SETTINGS.replace('}', ', delete_batch_size: 0}'),
      limitsYaml: '{retention_period: 48h, retention_stream: [{selector: "{app=\\"b\\"}", priority: 1, period: 24h}]}',
    });
    await populate(objects);
    // now is T0+5d: the longest retention (48h) keeps from T0+3d on
    await requests.add('t', { query: '{app="gone"}', pieces: [{ startMs: Number(T0 / MS), endMs: Number((T0 + 2n * DAY) / MS) }], intervalNs: 0n });
    await requests.add('t', { query: '{app="kept"}', pieces: [{ startMs: Number(T0 / MS), endMs: Number((T0 + 4n * DAY) / MS) }], intervalNs: 0n });
    const fixture = compactor();
    await runAndSweep(fixture, clock);
    expect(Object.fromEntries((await requests.forTenant('t')).map((p) => [p.query, p.status]))).toEqual({
      '{app="gone"}': 'processed',
      '{app="kept"}': 'received',
    });
    const scrape = await fixture.metrics.registry.metrics();
    expect(scrape).toContain('loki_compactor_delete_requests_processed_total{user="t"} 1');
    expect(scrape).toContain('loki_compactor_pending_delete_requests_count 1');
  });
});

describe('delete requests that delete nothing from storage', () => {
  it('a request cancelled, one still in its cancel period (plus a minute), and a filter-only tenant', async () => {
    const cases = [
      {
        name: 'cancelled',
        async setUp(requests: DeleteRequestStore) {
          await addRequests(requests);
          for (const p of await requests.forTenant('t')) await requests.cancel('t', p.requestId, [p]);
        },
        status: [] as string[],
      },
      {
        name: 'in the cancel period',
        async setUp(_requests: DeleteRequestStore, objects: ObjectStore) {
          // made 24h and 30s before the run: the cancel period is over, Loki's extra minute is not
          await addRequests(new DeleteRequestStore(objects, { now: () => NOW_MS - 86_430_000 }));
        },
        status: ['received', 'received'],
      },
      { name: 'filter-only', limitsYaml: '{deletion_mode: filter-only}', setUp: addRequests, status: ['received', 'received'] },
    ];
    for (const testCase of cases) {
      const { objects, requests, clock, compactor } = setUp(testCase.limitsYaml ? { limitsYaml: testCase.limitsYaml } : {});
      await populate(objects);
      await testCase.setUp(requests, objects);
      const before = await chunkObjects(objects);
      const fixture = compactor();
      await runAndSweep(fixture, clock);
      expect(await storedLines(objects), testCase.name).toEqual(BEFORE);
      const after = await chunkObjects(objects);
      expect([...after.keys()], testCase.name).toEqual([...before.keys()]);
      for (const [key, bytes] of after) expect(bytes.equals(before.get(key)!), testCase.name).toBe(true);
      expect(
        (await requests.forTenant('t')).map((p) => p.status),
        testCase.name,
      ).toEqual(testCase.status);
      expect(await fixture.metrics.registry.metrics(), testCase.name).not.toContain('loki_compactor_delete_requests_processed_total{');
    }
  });
});

/** Fails the first put of a chunk object, then works: one table of a run fails, the others go through. */
class FailFirstChunkPut implements ObjectStore {
  readonly description = 'fails its first chunk put';
  failed = false;
  constructor(private readonly inner: ObjectStore) {}
  async put(key: string, body: Uint8Array): Promise<void> {
    if (key.startsWith('chunks/') && !this.failed) {
      this.failed = true;
      throw new Error(`injected failure: ${key}`);
    }
    await this.inner.put(key, body);
  }
  delete = (key: string) => this.inner.delete(key);
  get = (key: string) => this.inner.get(key);
  list = (prefix: string) => this.inner.list(prefix);
}

describe('a store failing during delete processing', () => {
  it('once, in one table: the requests stay received until a run has done every table', async () => {
    const { objects, requests, clock, compactor } = setUp();
    await populate(objects);
    await addRequests(requests);
    const flaky = new FailFirstChunkPut(objects);
    const first = compactor(flaky);
    await expect(first.compactor.runCompaction(true)).rejects.toThrow('tables failed');
    expect(flaky.failed).toBe(true);
    expect((await requests.forTenant('t')).map((p) => p.status)).toEqual(['received', 'received']);
    await runAndSweep(compactor(), clock);
    expect((await requests.forTenant('t')).map((p) => p.status)).toEqual(['processed', 'processed']);
    expect(await storedLines(objects)).toEqual(AFTER);
  });

  it('at any write: after a restart the run finishes, nothing outside the requests is lost, every indexed chunk is readable', async () => {
    for (let budget = 0; ; budget++) {
      const { objects, requests, clock, compactor } = setUp();
      const indexed = await populate(objects);
      await addRequests(requests);
      const bBefore = await objects.get(chunkKey('t', indexed[2]!.chunks[0]!));
      const failing = new FailingWritesStore(objects, budget);
      const first = compactor(failing);
      await first.compactor
        .runCompaction(true)
        .then((r) => r.oldFilesDeleted)
        .catch(() => {});
      clock.advance(3 * 3_600_000);
      await first.compactor.sweep().catch(() => {});
      if (!failing.failed) {
        // the loop reached a budget with no failure only after failing at every write before it
        expect(budget).toBeGreaterThan(10);
        break;
      }
      // Whatever the failure left: every indexed chunk reads, and only lines of the requests are missing.
      const lines = await storedLines(objects);
      for (const [stream, expected] of Object.entries(AFTER)) expect(lines[stream], `budget ${budget}, ${stream}`).toEqual(expect.arrayContaining(expected));

      // the restart: a new process over the same store and working directory
      await runAndSweep(compactor(), clock);
      expect(await storedLines(objects), `budget ${budget}`).toEqual(AFTER);
      expect((await requests.forTenant('t')).map((p) => p.status)).toEqual(['processed', 'processed']);
      expect((await objects.get(chunkKey('t', indexed[2]!.chunks[0]!))).equals(bBefore)).toBe(true);
      // b and the two rewritten chunks: every old one swept once no table named it
      expect(await objects.list('chunks/'), `budget ${budget}`).toHaveLength(3);
      expect(budget, 'the run should fail at some write before this many').toBeLessThan(60);
    }
  });
});
