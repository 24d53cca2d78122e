import { byTimestamp, type Entry } from '../chunk/entry.js';

/**
 * Merges per-source lists (each sorted by timestamp) into one sorted list without duplicates: an entry with
 * the same timestamp and line as one already taken is dropped, as Loki's read path does within a stream,
 * wherever the copies came from (memory and a flushed chunk, two flushes of the same data after a WAL
 * replay, two shards, or one list that holds it twice).
 */
export function mergeDedup<E extends Entry>(lists: readonly E[][]): E[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return [];
  const all = nonEmpty.length === 1 ? nonEmpty[0]! : nonEmpty.flat().sort(byTimestamp);
  const out: E[] = [];
  let groupStart = 0;
  for (const e of all) {
    const prev = out[out.length - 1];
    if (!prev || prev.timestamp !== e.timestamp) {
      groupStart = out.length;
      out.push(e);
      continue;
    }
    // Same timestamp as the previous entry: keep it only if no entry of this timestamp has the same line.
    let seen = false;
    for (let i = groupStart; i < out.length && !seen; i++) seen = out[i]!.line === e.line;
    if (!seen) out.push(e);
  }
  return out;
}
