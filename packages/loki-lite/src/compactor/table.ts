import { SeriesUnion, chunkIdentity } from '../index/merge.js';
import type { ChunkRef, SeriesChunks } from '../index/types.js';
import { PERIOD_NS } from '../storage/keys.js';
import type { IndexTable, LogStore, ReplacedIndexFiles } from '../storage/log-store.js';
import type { Expiration } from './retention/expiration.js';
import type { Mark, MarkerFiles } from './retention/markers.js';

/**
 * The delete API's part in a compaction (optional): asked in retention runs, once per table and tenant that
 * has chunks left, with the merged series (less what retention removed); it answers the series to index
 * instead (refs dropped, rewritten chunks' new refs in place of the old) and the chunks to delete, which are
 * marked as retention's are. A retention run tells it when it starts and whether it went through every table
 * when it ends (Loki's MarkPhaseStarted and MarkPhaseFinished), so that requests become processed only then.
 */
export interface TableDeletes {
  runStarted?(): Promise<void>;
  apply(table: IndexTable, series: readonly SeriesChunks[]): Promise<{ series: SeriesChunks[]; deletedChunks: ChunkRef[] }>;
  runFinished?(complete: boolean): Promise<void>;
}

export interface TableCompactionDeps {
  readonly store: LogStore;
  /** With retention: which chunks expired, and where their marks go. */
  readonly retention?: { readonly expiration: Expiration; readonly markers: MarkerFiles; readonly now: () => bigint };
  readonly deletes?: TableDeletes;
}

/** What compacting one tenant's table did (Loki's actions: `none`, `modified`, `deleted`). */
export interface TableOutcome {
  readonly action: 'skipped' | 'none' | 'modified' | 'deleted';
  /** Index files replaced by the merged one. */
  readonly mergedFiles: number;
  /** Chunks marked for the sweeper. */
  readonly marked: number;
  /** Chunk refs dropped from this table only (chunks that run on into a table still in retention). */
  readonly droppedRefs: number;
  /** Settles when the replaced files are deleted (see LogStore.replaceIndexFiles). */
  readonly oldFilesDeleted?: Promise<void>;
}

/**
 * Merges every index file of one tenant's table into one, less what retention and deletes remove. The order
 * is what makes a kill at any point safe: the marks of removed chunks are durable on local disk before the
 * swap (a mark whose chunk an index still names is kept by the sweeper, not acted on), and the swap writes
 * the merged file before the old ones go (index/README.md). A table with one file and nothing to remove is
 * left as it is.
 */
export async function compactTable(table: IndexTable, deps: TableCompactionDeps): Promise<TableOutcome> {
  const keys = await deps.store.listTableFiles(table);
  if (keys.length === 0) return { action: 'skipped', mergedFiles: 0, marked: 0, droppedRefs: 0 };
  const union = new SeriesUnion();
  for (const key of keys) union.add(await deps.store.readIndexFile(key));
  const merged = union.result();
  let series = merged;
  const marks: Mark[] = [];
  let droppedRefs = 0;
  if (deps.retention) ({ series, droppedRefs } = applyRetention(table, series, deps.retention.expiration, marks));
  series = series.filter((s) => s.chunks.length > 0);
  if (deps.deletes && series.length > 0) {
    const result = await deps.deletes.apply(table, series);
    series = result.series.filter((s) => s.chunks.length > 0);
    for (const chunk of result.deletedChunks) marks.push({ tenant: table.tenant, chunk });
  }
  const changed = !sameRefs(merged, series);
  if (keys.length === 1 && !changed) return { action: 'skipped', mergedFiles: 0, marked: 0, droppedRefs: 0 };
  if (deps.retention) await deps.retention.markers.write(marks, deps.retention.now());
  const replaced: ReplacedIndexFiles = await deps.store.replaceIndexFiles(table, keys, series);
  const action = series.length === 0 ? 'deleted' : changed ? 'modified' : 'none';
  return { action, mergedFiles: keys.length, marked: marks.length, droppedRefs, oldFilesDeleted: replaced.oldFilesDeleted };
}

/**
 * Takes expired chunks out of `series` (marking them) and refs that only this table may drop (a chunk that
 * runs on into a table still in retention), as Loki's marker does per series.
 */
function applyRetention(
  table: IndexTable,
  series: readonly SeriesChunks[],
  expiration: Expiration,
  marks: Mark[],
): { series: SeriesChunks[]; droppedRefs: number } {
  const tableEnd = BigInt(table.period + 1) * PERIOD_NS - 1n;
  let droppedRefs = 0;
  const kept = series.map((s) => {
    const chunks = s.chunks.filter((c) => {
      if (expiration.expired(table.tenant, s.labels, c)) {
        marks.push({ tenant: table.tenant, chunk: c });
        return false;
      }
      if (c.through > tableEnd && expiration.dropFromIndex(table.tenant, s.labels, tableEnd)) {
        droppedRefs++;
        return false;
      }
      return true;
    });
    return chunks.length === s.chunks.length ? s : { ...s, chunks };
  });
  return { series: kept, droppedRefs };
}

/** Whether two lists of series name the same chunks. */
function sameRefs(a: readonly SeriesChunks[], b: readonly SeriesChunks[]): boolean {
  const ids = (list: readonly SeriesChunks[]) => new Set(list.flatMap((s) => s.chunks.map((c) => `${s.fingerprint}/${chunkIdentity(c)}`)));
  const left = ids(a);
  const right = ids(b);
  return left.size === right.size && [...left].every((id) => right.has(id));
}
