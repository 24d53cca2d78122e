import type { Logger } from '@loki-lite/shared';
import { chunkIdentity } from '../../index/merge.js';
import type { Metrics } from '../../metrics.js';
import { periodOf } from '../../storage/keys.js';
import type { IndexTable, LogStore } from '../../storage/log-store.js';
import { ObjectNotFoundError } from '../../storage/object-store.js';
import type { Mark, MarkerFile, MarkerFiles } from './markers.js';

export interface SweeperOptions {
  readonly markers: MarkerFiles;
  readonly store: LogStore;
  /** retention_delete_delay in ns: a marker file is processed once it is older than this. */
  readonly deleteDelay: bigint;
  /** retention_delete_worker_count: chunks deleted at once. */
  readonly workers: number;
  /** The clock, ns. */
  readonly now: () => bigint;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/** What one sweep did. */
export interface SweepResult {
  readonly deleted: number;
  /** Marks kept for a later sweep: a current index file still names the chunk, or its delete failed. */
  readonly kept: number;
}

/**
 * Deletes the chunks of marker files older than retention_delete_delay (Loki's sweeper), oldest file first.
 * The delay lets every reader's listing of the index move past the swap that dropped them. Before a chunk is
 * deleted, the current index files of every table it spans (its tenant's) are read: a chunk one of them still
 * names is not deleted (a compactor that died between its marker and its swap, old files whose delete is
 * still pending) and its mark is kept for the next sweep. A file is rewritten with the marks left, and
 * removed when none are.
 */
export class Sweeper {
  constructor(private readonly opts: SweeperOptions) {}

  async sweep(): Promise<SweepResult> {
    const { markers, metrics, now, deleteDelay } = this.opts;
    const files = await markers.list();
    metrics.sweeperMarkerFilesCurrent.set(files.length);
    const named = new IndexedChunks(this.opts.store);
    let deleted = 0;
    let kept = 0;
    for (const file of files) {
      if (now() - file.createdNs <= deleteDelay) break;
      metrics.sweeperMarkerFileTime.set(Number(file.createdNs / 1_000_000n) / 1000);
      const left = await this.sweepFile(file, named);
      deleted += left.deleted;
      kept += left.kept.length;
      await markers.rewrite(file, left.kept);
      if (left.kept.length === 0) metrics.sweeperMarkerFilesDeleted.inc();
    }
    metrics.sweeperMarkerFileTime.set(0);
    if (deleted > 0 || kept > 0)
      this.opts.log.fields('info', [
        ['msg', 'retention sweep finished'],
        ['deleted_chunks', deleted],
        ['kept_marks', kept],
      ]);
    return { deleted, kept };
  }

  private async sweepFile(file: MarkerFile, named: IndexedChunks): Promise<{ deleted: number; kept: Mark[] }> {
    const marks = await this.opts.markers.read(file);
    const kept: Mark[] = [];
    const toDelete: Mark[] = [];
    // Once per distinct chunk: a chunk spanning two tables is marked from both.
    const seen = new Set<string>();
    for (const mark of marks) {
      const id = markId(mark);
      if (seen.has(id)) continue;
      seen.add(id);
      if (await named.has(mark)) kept.push(mark);
      else toDelete.push(mark);
    }
    let deleted = 0;
    await forEachLimited(toDelete, this.opts.workers, async (mark) => {
      if (await this.deleteChunk(mark)) deleted++;
      else kept.push(mark);
    });
    return { deleted, kept };
  }

  private async deleteChunk(mark: Mark): Promise<boolean> {
    const started = performance.now();
    try {
      await this.opts.store.deleteChunk(mark.tenant, mark.chunk);
      this.opts.metrics.sweeperChunkDeleteDuration.observe({ status: 'success' }, (performance.now() - started) / 1000);
      return true;
    } catch (e) {
      this.opts.metrics.sweeperChunkDeleteDuration.observe({ status: 'failure' }, (performance.now() - started) / 1000);
      this.opts.log.fields('warn', [
        ['msg', 'error deleting chunk'],
        ['tenant', mark.tenant],
        ['fingerprint', mark.chunk.fingerprint],
        ['err', (e as Error).message],
      ]);
      return false;
    }
  }
}

function markId(mark: Mark): string {
  return `${mark.tenant}/${mark.chunk.fingerprint}/${chunkIdentity(mark.chunk)}`;
}

/**
 * The chunks the current index files name, per tenant table, read once per sweep: index files are
 * immutable, and a table listed here is listed afresh (not from the readers' cache).
 */
class IndexedChunks {
  private readonly byTable = new Map<string, Promise<Set<string>>>();

  constructor(private readonly store: LogStore) {}

  async has(mark: Mark): Promise<boolean> {
    const id = markId(mark);
    for (let p = periodOf(mark.chunk.from); p <= periodOf(mark.chunk.through); p++) {
      for (const table of await this.tablesOf(p, mark.tenant)) {
        if ((await this.chunksOf(table)).has(id)) return true;
      }
    }
    return false;
  }

  private async tablesOf(period: number, tenant: string): Promise<IndexTable[]> {
    return (await this.store.listPeriodTables(period)).filter((t) => t.tenant === tenant);
  }

  private chunksOf(table: IndexTable): Promise<Set<string>> {
    const key = `${table.name}/${table.tenant}`;
    let chunks = this.byTable.get(key);
    if (!chunks) this.byTable.set(key, (chunks = readTableChunks(this.store, table)));
    return chunks;
  }
}

/** Every chunk (as markId) the table's files name. A file replaced while being read: the table is read again. */
async function readTableChunks(store: LogStore, table: IndexTable, attempt = 0): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for (const key of await store.listTableFiles(table)) {
      for (const s of await store.readIndexFile(key)) for (const c of s.chunks) ids.add(`${table.tenant}/${s.fingerprint}/${chunkIdentity(c)}`);
    }
  } catch (e) {
    if (e instanceof ObjectNotFoundError && attempt === 0) return readTableChunks(store, table, 1);
    throw e;
  }
  return ids;
}

/** Runs `fn` over `items`, at most `limit` at once. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
