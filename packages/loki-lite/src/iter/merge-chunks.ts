import type { Entry } from '../chunk/entry.js';
import type { BlockRuns } from '../chunk/reader.js';
import { chunkEdge, compareEdges, type Direction } from './direction.js';

/** One chunk of a stream, from memory or the store, read only when the merge reaches it. */
export interface ChunkSource {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  /** The chunk's entries in the query's range; `backward` asks for the runs newest first. */
  load(backward: boolean): Promise<BlockRuns>;
  /** A store read, worth starting ahead of time; a chunk in memory is decoded only when opened. */
  readonly remote: boolean;
}

/** Chunks loaded ahead of the merge, so store round trips overlap with the work on earlier chunks. */
const PREFETCH = 4;

interface Cursor {
  readonly runs: BlockRuns;
  entries: readonly Entry[];
  /** Next index to emit: counts up (forward) or down (backward). */
  at: number;
}

/**
 * Walks a stream's chunks in time order (or reverse) and hands `visit` every entry once: chunks are
 * opened only when the merge reaches their first (or last) timestamp, so memory holds the overlapping
 * chunks and a few prefetched ones, not the whole range. An entry with the same timestamp and line as
 * one already visited is skipped, wherever the copies came from (memory and a flushed chunk, two flushes
 * of the same data after a WAL replay). `visit` returns false to stop: no further chunk is read.
 */
export async function mergeChunks(sources: readonly ChunkSource[], direction: Direction, visit: (e: Entry) => boolean): Promise<void> {
  const backward = direction === 'backward';
  const edge = (s: ChunkSource) => chunkEdge(s.minTs, s.maxTs, backward);
  const order = [...sources].sort((a, b) => compareEdges(edge(a), edge(b), backward));
  const loads: Array<Promise<BlockRuns> | undefined> = new Array(order.length);
  const loadAt = (i: number) => (loads[i] ??= order[i]!.load(backward));
  const open: Cursor[] = [];
  let next = 0;
  // The lines seen at groupTs: the first, and the others only when a timestamp repeats (most lines have a
  // timestamp of their own, so the common case allocates nothing and resizes nothing).
  let groupTs: bigint | undefined;
  let groupFirst = '';
  let groupMore: string[] | undefined;
  for (;;) {
    // Open chunks until the next unopened one starts after everything the open ones still hold.
    while (next < order.length && (open.length === 0 || !before(head(first()!), edge(order[next]!)))) await openChunk();
    if (open.length === 0) return;
    // Entries strictly before the next unopened chunk's edge cannot be preceded by anything unread.
    const limit = next < order.length ? edge(order[next]!) : undefined;
    for (;;) {
      // One chunk open and its whole run before the limit (a stream's chunks seldom overlap): the run is
      // walked straight, without choosing a cursor and testing the limit at every entry.
      if (open.length === 1 && runBefore(open[0]!, limit)) {
        const only = open[0]!;
        if (!visitRun(only)) return;
        if (!nextRun(only)) open.length = 0;
        continue;
      }
      const best = first();
      if (!best) break;
      const e = best.entries[best.at]!;
      if (limit !== undefined && !before(e.timestamp, limit)) break;
      best.at += backward ? -1 : 1;
      if ((best.at < 0 || best.at >= best.entries.length) && !nextRun(best)) open.splice(open.indexOf(best), 1);
      if (isRepeat(e)) continue;
      if (!visit(e)) return;
    }
  }

  /** True if `e` has the timestamp and line of an entry already visited (and remembers it otherwise). */
  function isRepeat(e: Entry): boolean {
    if (e.timestamp !== groupTs) {
      groupTs = e.timestamp;
      groupFirst = e.line;
      groupMore = undefined;
      return false;
    }
    if (e.line === groupFirst || groupMore?.includes(e.line)) return true;
    (groupMore ??= []).push(e.line);
    return false;
  }

  /** Visits the rest of the cursor's run; false when `visit` asked to stop. */
  function visitRun(c: Cursor): boolean {
    const entries = c.entries;
    const step = backward ? -1 : 1;
    const end = backward ? -1 : entries.length;
    for (let i = c.at; i !== end; i += step) {
      const e = entries[i]!;
      if (isRepeat(e)) continue;
      if (!visit(e)) {
        c.at = i + step;
        return false;
      }
    }
    c.at = end;
    return true;
  }

  /** Whether the cursor's run ends before `limit` (the next unopened chunk's edge; none: no limit). */
  function runBefore(c: Cursor, limit: bigint | undefined): boolean {
    return limit === undefined || before(c.entries[backward ? 0 : c.entries.length - 1]!.timestamp, limit);
  }

  async function openChunk(): Promise<void> {
    const i = next++;
    for (let k = i + 1; k < Math.min(order.length, i + 1 + PREFETCH); k++) {
      if (order[k]!.remote) void loadAt(k).catch(() => {}); // awaited when opened
    }
    const runs = await loadAt(i);
    loads[i] = undefined;
    const cursor: Cursor = { runs, entries: [], at: 0 };
    if (nextRun(cursor)) open.push(cursor);
  }

  /** Moves a cursor to its chunk's next non-empty run; false when the chunk is done. */
  function nextRun(c: Cursor): boolean {
    for (let run = c.runs.next(); run; run = c.runs.next()) {
      if (run.length === 0) continue;
      c.entries = run;
      c.at = backward ? run.length - 1 : 0;
      return true;
    }
    return false;
  }

  /** The open cursor whose next entry comes first. */
  function first(): Cursor | undefined {
    let best: Cursor | undefined;
    for (const c of open) if (!best || before(head(c), head(best))) best = c;
    return best;
  }

  function head(c: Cursor): bigint {
    return c.entries[c.at]!.timestamp;
  }

  /** True if timestamp a comes before b in the walk's direction. */
  function before(a: bigint, b: bigint): boolean {
    return backward ? a > b : a < b;
  }
}
