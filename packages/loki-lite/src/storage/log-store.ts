import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorruptDataError } from '../util/binary.js';
import { decodeIndex, encodeIndex, type IndexFile } from '../index/format.js';
import { SeriesUnion } from '../index/merge.js';
import { selectSeries } from '../index/select.js';
import type { ChunkId, ChunkRef, SeriesChunks } from '../index/types.js';
import type { LabelMatcher } from '@loki-lite/shared';
import {
  chunkKey,
  INDEX_ROOT,
  indexFileKey,
  indexTableName,
  indexTableNamePrefix,
  indexTableOfKey,
  indexTablePrefix,
  isIndexFileKey,
  PERIOD_NS,
  periodOf,
  periodOfTableName,
} from './keys.js';
import { ObjectNotFoundError, type ObjectStore } from './object-store.js';

/**
 * One tenant's index table of one 24h period, as the compactor and other roles name it: plain data, so it can
 * cross a process boundary. Only the store turns it into keys.
 */
export interface IndexTable {
  /** Loki's table name: the schema period's index prefix and the period number, e.g. `index_20412`. */
  readonly name: string;
  /** Days since the Unix epoch. */
  readonly period: number;
  readonly tenant: string;
}

/** An index file planned by LogStore.planIndex, to be written by writeIndexFile. */
export interface PlannedIndexFile {
  readonly table: IndexTable;
  readonly key: string;
  readonly bytes: Buffer;
}

/** What replaceIndexFiles did. */
export interface ReplacedIndexFiles {
  /** The file that now holds the table's series; undefined when there were none left to hold. */
  readonly key: string | undefined;
  /**
   * Settles when the replaced files are gone, `replacedIndexDeleteDelayMs` after the new file was published.
   * It need not be awaited: a replaced file left behind (a failed delete, a process that ended first) only
   * repeats refs the new file has, and the next compaction of the table takes it in and deletes it.
   */
  readonly oldFilesDeleted: Promise<void>;
}

/** The part of a schema_config period the store needs. */
export interface IndexPeriod {
  readonly from: bigint;
  readonly prefix: string;
}

export interface LogStoreOptions {
  /** How long a listing of an index table is reused before the store is asked again. */
  listingTtlMs?: number;
  /** How many parsed index files to keep. */
  indexCacheSize?: number;
  /**
   * How long replaceIndexFiles leaves the files it replaced before deleting them. Longer than any reader's
   * `listingTtlMs`, so a reader that listed the table before the swap still finds them (index/README.md).
   */
  replacedIndexDeleteDelayMs?: number;
  /** Waits before the delete of replaced files; tests make it a gate they open. */
  waitBeforeDelete?: (ms: number) => Promise<void>;
  /**
   * An object in the index key space that is not one of our index files (a Loki `*.tsdb.gz` in a shared
   * bucket, a stray upload): it is skipped, and told here once per key.
   */
  onForeignIndexFile?: (key: string, reason: string) => void;
}

/** What a skipped index file lists: nothing. */
const NO_INDEX: IndexFile = { series: [], postings: new Map() };

/**
 * Chunks and index files of all tenants in one object store. Index files are immutable, so parsed ones are
 * cached by key; table listings are cached briefly and updated at once by this process's own writes.
 */
export class LogStore {
  private readonly writerId = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly indexCache = new Map<string, IndexFile>();
  /** Table listings by key prefix (indexTablePrefix). */
  private readonly listings = new Map<string, { keys: readonly string[]; at: number }>();
  /** Index files this process has written: a listing taken while one was being written may lack it. */
  private indexWrites = 0;
  private readonly listingTtlMs: number;
  private readonly indexCacheSize: number;
  private readonly replacedIndexDeleteDelayMs: number;
  private readonly waitBeforeDelete: (ms: number) => Promise<void>;
  private readonly onForeignIndexFile: (key: string, reason: string) => void;

  constructor(
    readonly objects: ObjectStore,
    private readonly periods: readonly IndexPeriod[],
    opts: LogStoreOptions = {},
  ) {
    this.listingTtlMs = opts.listingTtlMs ?? 5_000;
    this.indexCacheSize = opts.indexCacheSize ?? 2_000;
    this.replacedIndexDeleteDelayMs = opts.replacedIndexDeleteDelayMs ?? Math.max(60_000, 2 * this.listingTtlMs);
    // Not a reason to keep the process alive: a replaced file left behind is harmless (see ReplacedIndexFiles).
    this.waitBeforeDelete = opts.waitBeforeDelete ?? ((ms) => sleep(ms, undefined, { ref: false }));
    this.onForeignIndexFile = opts.onForeignIndexFile ?? (() => {});
  }

  async putChunk(tenant: string, ref: ChunkRef, bytes: Buffer): Promise<void> {
    await this.objects.put(chunkKey(tenant, ref), bytes);
  }

  async getChunk(tenant: string, ref: ChunkRef): Promise<Buffer> {
    return this.objects.get(chunkKey(tenant, ref));
  }

  /** Removes a chunk object (retention's sweeper, once no index names it); a missing one is not an error. */
  async deleteChunk(tenant: string, ref: ChunkId): Promise<void> {
    await this.objects.delete(chunkKey(tenant, ref));
  }

  /** The index prefix of the schema period in force at `ts`, or undefined before the first one. */
  private prefixAt(ts: bigint): string | undefined {
    let prefix: string | undefined;
    for (const p of this.periods) if (p.from <= ts) prefix = p.prefix;
    return prefix;
  }

  /**
   * The index files that list the chunk refs of `series`: one new file in every 24h period the chunks touch
   * (a chunk spanning midnight is listed in both days' tables, as in Loki). Keys are fixed here, so a file
   * written again after a failed put replaces that attempt instead of adding a second file with its refs.
   */
  planIndex(tenant: string, series: readonly SeriesChunks[]): PlannedIndexFile[] {
    const byPeriod = new Map<number, SeriesChunks[]>();
    for (const s of series) {
      const perPeriod = new Map<number, ChunkRef[]>();
      for (const c of s.chunks) {
        for (let p = periodOf(c.from); p <= periodOf(c.through); p++) {
          let list = perPeriod.get(p);
          if (!list) perPeriod.set(p, (list = []));
          list.push(c);
        }
      }
      for (const [p, chunks] of perPeriod) {
        let list = byPeriod.get(p);
        if (!list) byPeriod.set(p, (list = []));
        list.push({ labels: s.labels, fingerprint: s.fingerprint, chunks });
      }
    }
    return [...byPeriod].map(([period, list]) => {
      const prefix = this.prefixAt(BigInt(period) * PERIOD_NS) ?? this.periods[0]?.prefix ?? 'index_';
      return this.planFile({ name: indexTableName(prefix, period), period, tenant }, list);
    });
  }

  private planFile(table: IndexTable, series: readonly SeriesChunks[]): PlannedIndexFile {
    return { table, key: indexFileKey(table.name, table.tenant, Date.now(), this.writerId, this.seq++), bytes: encodeIndex(series) };
  }

  /** Writes one planned index file; this process's queries see it at once. */
  async writeIndexFile(file: PlannedIndexFile): Promise<void> {
    await this.publish(file.table, file, []);
  }

  /** Puts `file` (if any) and swaps it for `replaced` in this process's listing and parsed-file cache. */
  private async publish(table: IndexTable, file: PlannedIndexFile | undefined, replaced: readonly string[]): Promise<void> {
    if (file) {
      await this.objects.put(file.key, file.bytes);
      this.indexWrites++;
      this.remember(file.key, decodeIndex(file.bytes));
    }
    for (const key of replaced) this.indexCache.delete(key);
    const listing = this.listings.get(tablePrefix(table));
    if (listing) listing.keys = [...listing.keys.filter((k) => k !== file?.key && !replaced.includes(k)), ...(file ? [file.key] : [])].sort();
  }

  /**
   * The index tables that hold files of `tenant`, in period order. This lists the whole index key space (the
   * object stores list by prefix only), so it is for the compactor's rounds, not for queries.
   */
  async listTables(tenant: string): Promise<IndexTable[]> {
    return (await this.listAllTables()).filter((t) => t.tenant === tenant);
  }

  /** The index tables of every tenant, in period order (then name, then tenant): the compactor's round. */
  async listAllTables(): Promise<IndexTable[]> {
    const tables = this.tablesOf(await this.objects.list(INDEX_ROOT));
    const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return tables.sort((a, b) => a.period - b.period || order(a.name, b.name) || order(a.tenant, b.tenant));
  }

  /** The tables of every tenant in `period` (one per tenant, or more when schema periods change the prefix). */
  async listPeriodTables(period: number): Promise<IndexTable[]> {
    const prefixes = new Set(this.periods.map((p) => p.prefix));
    const keys = await Promise.all([...prefixes].map((prefix) => this.objects.list(indexTableNamePrefix(indexTableName(prefix, period)))));
    return this.tablesOf(keys.flat());
  }

  /** One table per (table name, tenant) among `keys`; names that no schema period's prefix makes are skipped. */
  private tablesOf(keys: readonly string[]): IndexTable[] {
    const tables = new Map<string, IndexTable>();
    for (const key of keys) {
      const at = indexTableOfKey(key);
      if (!at || tables.has(`${at.tableName}/${at.tenant}`)) continue;
      const period = this.periodOfTable(at.tableName);
      if (period !== undefined) tables.set(`${at.tableName}/${at.tenant}`, { name: at.tableName, period, tenant: at.tenant });
    }
    return [...tables.values()];
  }

  private periodOfTable(tableName: string): number | undefined {
    for (const p of this.periods) {
      const period = periodOfTableName(tableName, p.prefix);
      if (period !== undefined) return period;
    }
    return undefined;
  }

  /**
   * The keys of a table's index files as the store lists them now (not from the listing cache). Objects in
   * the table that are not loki-lite index files are left out: a compactor must neither merge nor delete them.
   */
  async listTableFiles(table: IndexTable): Promise<string[]> {
    return (await this.listTable(tablePrefix(table), true)).filter(isIndexFileKey);
  }

  /** The series and chunk refs of one index file listed by listTableFiles. Throws ObjectNotFoundError when gone. */
  async readIndexFile(key: string): Promise<readonly SeriesChunks[]> {
    return (await this.loadIndex(key)).series;
  }

  /**
   * Replaces index files of `table` by one holding `series` (typically their union, less what retention
   * removed), safe for readers in any process: the new file is written and published first (this process's
   * listing has it, and no longer the old ones, at once); the old files are deleted only
   * `replacedIndexDeleteDelayMs` later, when every reader's listing has been taken after the new file existed.
   * See index/README.md. Files of the table not named in `oldKeys` (new ones from the ingesters) stay. With no
   * `series` (retention expired them all) no file is written and the old ones just go, after the same delay.
   */
  async replaceIndexFiles(table: IndexTable, oldKeys: readonly string[], series: readonly SeriesChunks[]): Promise<ReplacedIndexFiles> {
    const prefix = tablePrefix(table);
    const foreign = oldKeys.find((k) => !k.startsWith(prefix) || !isIndexFileKey(k));
    if (foreign !== undefined) throw new Error(`replaceIndexFiles: ${foreign} is not an index file of table ${table.name} of tenant ${table.tenant}`);
    const file = series.length > 0 ? this.planFile(table, series) : undefined;
    await this.publish(table, file, oldKeys);
    const oldFilesDeleted = this.deleteLater(oldKeys);
    // Whoever does not await it must not end the process with an unhandled rejection.
    oldFilesDeleted.catch(() => {});
    return { key: file?.key, oldFilesDeleted };
  }

  private async deleteLater(keys: readonly string[]): Promise<void> {
    await this.waitBeforeDelete(this.replacedIndexDeleteDelayMs);
    await Promise.all(keys.map((k) => this.objects.delete(k)));
  }

  /**
   * The series matching `matchers` with chunks overlapping [from, through], merged over every index file of
   * every period in range. A chunk listed in several files (or periods) appears once.
   */
  async selectSeries(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<SeriesChunks[]> {
    const union = new SeriesUnion();
    for (const file of await this.indexFiles(tenant, from, through)) union.add(selectSeries(file, matchers, from, through));
    return union.result();
  }

  private async indexFiles(tenant: string, from: bigint, through: bigint): Promise<IndexFile[]> {
    const files: IndexFile[] = [];
    const first = Math.max(periodOf(from < 0n ? 0n : from), 0);
    const last = periodOf(through < 0n ? 0n : through);
    for (let p = first; p <= last; p++) {
      const prefix = this.prefixAt(BigInt(p + 1) * PERIOD_NS - 1n);
      if (prefix === undefined) continue;
      files.push(...(await this.tableIndexFiles(indexTablePrefix(indexTableName(prefix, p), tenant))));
    }
    return files;
  }

  /**
   * The parsed files of one table. A listed file that is gone was replaced by a compactor (in any process)
   * after the listing was taken: the listing is dropped and the table listed once more, which names the file
   * that replaced it. Gone again from a fresh listing is an error.
   */
  private async tableIndexFiles(prefix: string): Promise<IndexFile[]> {
    try {
      return await this.loadAll(await this.listTable(prefix));
    } catch (e) {
      if (!(e instanceof ObjectNotFoundError)) throw e;
      return this.loadAll(await this.listTable(prefix, true));
    }
  }

  private loadAll(keys: readonly string[]): Promise<IndexFile[]> {
    return Promise.all(keys.map((k) => this.loadIndex(k)));
  }

  /** A table's keys, from the listing cache unless `fresh`; a fresh listing replaces the cached one. */
  private async listTable(prefix: string, fresh = false): Promise<readonly string[]> {
    const cached = this.listings.get(prefix);
    if (!fresh && cached && Date.now() - cached.at < this.listingTtlMs) return cached.keys;
    if (fresh) this.listings.delete(prefix);
    const writes = this.indexWrites;
    const keys = await this.objects.list(prefix);
    // A file of ours written while the list was under way may be missing from it, and once its chunks have
    // left the ingester's memory, queries would miss them until the listing expired: such a listing is used
    // once and not kept. (One kept from before the write has the file added by writeIndexFile.)
    if (this.indexWrites === writes) this.listings.set(prefix, { keys, at: Date.now() });
    return keys;
  }

  private async loadIndex(key: string): Promise<IndexFile> {
    const cached = this.indexCache.get(key);
    if (cached) {
      // refresh its place in the LRU order
      this.indexCache.delete(key);
      this.indexCache.set(key, cached);
      return cached;
    }
    const file = isIndexFileKey(key) ? await this.readIndex(key) : this.foreign(key, 'not named as loki-lite names its index files');
    this.remember(key, file);
    return file;
  }

  /** One of our index files; one that does not decode is skipped (and remembered as empty), not a failed query. */
  private async readIndex(key: string): Promise<IndexFile> {
    const bytes = await this.objects.get(key);
    try {
      return decodeIndex(bytes);
    } catch (e) {
      if (e instanceof CorruptDataError) return this.foreign(key, e.message);
      throw e;
    }
  }

  private foreign(key: string, reason: string): IndexFile {
    this.onForeignIndexFile(key, reason);
    return NO_INDEX;
  }

  private remember(key: string, file: IndexFile): void {
    this.indexCache.set(key, file);
    while (this.indexCache.size > this.indexCacheSize) this.indexCache.delete(this.indexCache.keys().next().value!);
  }
}

function tablePrefix(table: IndexTable): string {
  return indexTablePrefix(table.name, table.tenant);
}
