import type { Labels } from '@loki-lite/shared';
import type { ChunkId, ChunkRef, SeriesChunks } from './types.js';

/**
 * A chunk's identity within its series: the parts its object key is made of besides tenant and fingerprint.
 * The same chunk listed by several index files (two days' tables, or the files a compacted one replaced and
 * the compacted one itself) has the same identity.
 */
export function chunkIdentity(c: ChunkId): string {
  return `${c.from}:${c.through}:${c.checksum}`;
}

/**
 * The union of series from several index files: one entry per fingerprint, each chunk once (by
 * chunkIdentity), chunks sorted by `from`. Readers merge the files of a table with it, and a compactor the
 * files it replaces with one, so both see the same series and chunks.
 */
export class SeriesUnion {
  private readonly series = new Map<string, { labels: Labels; chunks: Map<string, ChunkRef> }>();

  add(list: readonly SeriesChunks[]): this {
    for (const s of list) {
      let entry = this.series.get(s.fingerprint);
      if (!entry) this.series.set(s.fingerprint, (entry = { labels: s.labels, chunks: new Map() }));
      for (const c of s.chunks) entry.chunks.set(chunkIdentity(c), c);
    }
    return this;
  }

  result(): SeriesChunks[] {
    return [...this.series].map(([fingerprint, e]) => ({
      fingerprint,
      labels: e.labels,
      chunks: [...e.chunks.values()].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0)),
    }));
  }
}
