import { type Labels, printLabels } from '@loki-lite/shared';
import type { Direction } from '../iter/direction.js';
import type { LogQuery } from '../querier/querier.js';
import type { QueryStats, ResultEntry, StreamResult } from '../shard/types.js';

/*
 * Log queries as Loki's query frontend answers them: split at split_queries_by_interval, each interval
 * answered with the query's limit, the answers merged (see mergeSplitAnswers for why this matters).
 */

/**
 * A log query as Loki's query frontend answers it: cut at multiples of `interval` (0: not cut), the
 * intervals answered by `select` in the query's direction, each with its own limit, until together they
 * hold at least `limit` lines; then merged (mergeSplitAnswers). A query within one interval goes through
 * whole.
 */
export async function selectLogsSplit(
  q: LogQuery,
  interval: bigint,
  stats: QueryStats,
  select: (q: LogQuery) => Promise<StreamResult[]>,
): Promise<StreamResult[]> {
  if (interval <= 0n || q.through - q.from <= interval - (q.from % interval)) return select(q);
  const splits = alignedSplits(q.from, q.through, interval);
  if (q.direction === 'backward') splits.reverse();
  const answers: StreamResult[][] = [];
  let total = 0;
  for (const [from, through] of splits) {
    const answer = await select({ ...q, from, through });
    answers.push(answer);
    total += answer.reduce((n, s) => n + s.entries.length, 0);
    if (total >= q.limit) break;
  }
  return mergeSplitAnswers(answers, q.direction, q.limit, stats);
}

/** [from, through) cut at multiples of `interval` (since the epoch), as Loki's frontend splits queries. */
export function alignedSplits(from: bigint, through: bigint, interval: bigint): Array<[bigint, bigint]> {
  const out: Array<[bigint, bigint]> = [];
  for (let start = from - (from % interval); start < through; start += interval) {
    out.push([start < from ? from : start, start + interval < through ? start + interval : through]);
  }
  return out;
}

/**
 * Loki's mergeOrderedNonOverlappingStreams over the interval answers (2.8, whose answers ../shared/compat
 * records): when they hold no more than `limit` lines, all of them. Else `limit` lines come off a binary
 * heap of the streams ordered by their next line (newest first for backward), built and popped exactly
 * as Go's container/heap does with Loki's Pop, which leaves a stream that still has lines at the end of
 * the heap instead of re-inserting it. The next pop then takes the best of the *other* streams first, so
 * streams alternate and a small stream is taken whole even when its lines are older than a big one's.
 * This reproduces Loki's choice of lines line for line; a plain time-ordered cut does not.
 */
export function mergeSplitAnswers(answers: readonly StreamResult[][], direction: Direction, limit: number, stats: QueryStats): StreamResult[] {
  const byKey = new Map<string, { labels: Labels; entries: ResultEntry[] }>();
  let total = 0;
  for (const answer of answers) {
    for (const s of answer) {
      const key = printLabels(s.labels);
      let m = byKey.get(key);
      if (!m) byKey.set(key, (m = { labels: s.labels, entries: [] }));
      m.entries.push(...s.entries);
      total += s.entries.length;
    }
  }
  const keys = [...byKey.keys()].sort();
  if (direction === 'backward') keys.reverse();
  const streams = keys.map((k) => byKey.get(k)!);
  if (total <= limit) {
    stats.totalEntriesReturned = total;
    return streams;
  }
  const heap = streams.map((s, i) => ({ i, entries: s.entries, at: 0 }));
  const head = (n: number) => heap[n]!.entries[heap[n]!.at]!.timestamp;
  const less = (a: number, b: number) => (direction === 'forward' ? head(a) < head(b) : head(a) > head(b));
  const swap = (a: number, b: number) => ([heap[a], heap[b]] = [heap[b]!, heap[a]!]);
  const down = (i0: number, n: number) => {
    for (let i = i0; ; ) {
      const j1 = 2 * i + 1;
      if (j1 >= n) return;
      const j = j1 + 1 < n && less(j1 + 1, j1) ? j1 + 1 : j1;
      if (!less(j, i)) return;
      swap(i, j);
      i = j;
    }
  };
  for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) down(i, heap.length);
  const picked = streams.map((): ResultEntry[] => []);
  for (let k = 0; k < limit && heap.length > 0; k++) {
    const n = heap.length - 1;
    swap(0, n);
    down(0, n);
    const s = heap[n]!;
    picked[s.i]!.push(s.entries[s.at++]!);
    if (s.at >= s.entries.length) heap.pop();
  }
  stats.totalEntriesReturned = Math.min(limit, total);
  return streams.map((s, i) => ({ labels: s.labels, entries: picked[i]! })).filter((s) => s.entries.length > 0);
}
