import type { HeadMemory } from '../chunk/mem-chunk.js';
import type { TenantInstance } from './instance.js';
import type { ChunkDesc } from './stream.js';

/**
 * Keeps the uncompressed head blocks of all streams under ingester.head_memory_limit. Past it, the largest
 * heads (of open chunks and of closed ones still waiting to flush) are compressed until a quarter of the
 * limit is free again, so the next pass is far off. Checked after each push and each replayed record, not
 * per entry: one comparison when under the limit (the map is passed, not an iterator made per push).
 */
export function keepHeadsUnderLimit(instances: ReadonlyMap<string, TenantInstance>, headMemory: HeadMemory, limit: number): void {
  if (headMemory.used <= limit) return;
  const heads: Array<{ bytes: number; desc: ChunkDesc }> = [];
  for (const instance of instances.values()) {
    for (const s of instance.streams.values()) {
      for (const c of s.chunks) if (!inStore(c) && c.chunk.headBytes > 0) heads.push({ bytes: c.chunk.headBytes, desc: c });
    }
  }
  heads.sort((a, b) => b.bytes - a.bytes);
  const target = limit * 0.75;
  for (const h of heads) {
    if (headMemory.used <= target) break;
    h.desc.chunk.cutBlock(h.desc.state === 'open');
  }
}

/** A chunk whose bytes are already in the store: its head was cut when it was encoded. */
function inStore(c: ChunkDesc): boolean {
  return c.state === 'flushed' || c.state === 'indexed';
}
