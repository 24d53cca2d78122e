import { type LabelMatcher, type Labels, printLabels } from '@loki-lite/shared';
import type { MemoryChunkSnapshot } from '../chunk/snapshot.js';
import type { ChunkRef } from '../index/types.js';
import type { LogStore } from '../storage/log-store.js';
import { type IngesterReader, matcherData } from './ingester-reader.js';
import { acrossTenants, compareStrings, withTenantLabel } from './multi-tenant.js';
import type { ShardStream } from '../shard/shard.js';

/*
 * What a selection reads: the streams with data in its range, each with its chunks in the ingester's memory
 * and those the index lists, joined by label set so the merge sees one stream wherever its data lies.
 */

/**
 * Streams with data in [from, through) matching the selector, in memory and in the index, joined by their
 * label set, in label order (for `a|b`, every tenant's, with __tenant_id__). The memory chunks are taken
 * before the index is read: an index cut that finishes meanwhile lists chunks and drops them from memory,
 * and the query must find them in one place or the other (in both, the merge drops the copies).
 */
export async function streamSources(
  memory: IngesterReader,
  store: LogStore,
  tenant: string,
  matchers: readonly LabelMatcher[],
  from: bigint,
  through: bigint,
): Promise<ShardStream[]> {
  const read = (t: string, m: readonly LabelMatcher[]) => tenantSources(memory, store, t, m, from, through);
  const tag = (s: ShardStream, t: string): ShardStream => ({ ...s, tenant: t, labels: withTenantLabel(s.labels, t) });
  const { results, multiTenant } = await acrossTenants(tenant, matchers, read, tag);
  // One tenant's streams come sorted; several tenants' interleave once __tenant_id__ is added.
  return multiTenant ? results.sort((a, b) => compareStrings(printLabels(a.labels), printLabels(b.labels))) : results;
}

/** One tenant's streams for streamSources. */
async function tenantSources(
  memory: IngesterReader,
  store: LogStore,
  tenant: string,
  matchers: readonly LabelMatcher[],
  from: bigint,
  through: bigint,
): Promise<ShardStream[]> {
  const sources = new Map<string, { labels: Labels; memory: readonly MemoryChunkSnapshot[]; chunks: ChunkRef[] }>();
  for (const m of await memory.streamChunks(tenant, matcherData(matchers), from, through)) {
    sources.set(m.labelsString, { labels: m.labels, memory: m.chunks, chunks: [] });
  }
  for (const s of await store.selectSeries(tenant, matchers, from, through - 1n)) {
    const key = printLabels(s.labels);
    const src = sources.get(key);
    if (src) src.chunks.push(...s.chunks);
    else sources.set(key, { labels: s.labels, memory: [], chunks: [...s.chunks] });
  }
  // In label order: the answer to ties between streams must not depend on where a stream's data is.
  return [...sources.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, src]) => src);
}
