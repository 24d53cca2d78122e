/** The order a read walks a stream in: oldest entries first, or newest first (Loki's `direction`). */
export type Direction = 'forward' | 'backward';

/** Where a walk reaches a chunk spanning [minTs, maxTs]: its first timestamp forward, its last backward. */
export function chunkEdge(minTs: bigint, maxTs: bigint, backward: boolean): bigint {
  return backward ? maxTs : minTs;
}

/** The order in which a walk opens chunks by their edges: oldest first forward, newest first backward. */
export function compareEdges(a: bigint, b: bigint, backward: boolean): number {
  return backward ? cmp(b, a) : cmp(a, b);
}

const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
