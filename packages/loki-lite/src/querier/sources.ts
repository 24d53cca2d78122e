import { type LabelMatcher, type Labels, printLabels } from '@loki-lite/shared';
import type { ChunkRef } from '../index/types.js';
import type { StreamSampleList } from '../shard/sample-lists.js';
import type { ShardStream } from '../shard/shard.js';
import type { LogStore } from '../storage/log-store.js';
import { acrossTenants, compareStrings, withTenantLabel } from './multi-tenant.js';

/*
 * What a selection reads from the store: the streams the index lists with chunks in its range, and, for
 * a range aggregation, the ingester's samples of each stream joined to them by label set, so that a shard
 * sees one stream wherever its data lies.
 */

/**
 * Streams with stored chunks in [from, through) matching the selector, in label order (for `a|b`, every
 * tenant's, with __tenant_id__).
 */
export async function storeSources(store: LogStore, tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<ShardStream[]> {
  const read = async (t: string, m: readonly LabelMatcher[]) => tenantSources(store, t, m, from, through);
  const tag = (s: ShardStream, t: string): ShardStream => ({ ...s, tenant: t, labels: withTenantLabel(s.labels, t) });
  const { results, multiTenant } = await acrossTenants(tenant, matchers, read, tag);
  // One tenant's streams come sorted; several tenants' interleave once __tenant_id__ is added.
  return multiTenant ? results.sort((a, b) => compareStrings(printLabels(a.labels), printLabels(b.labels))) : results;
}

/** One tenant's streams for storeSources, in label order. */
async function tenantSources(store: LogStore, tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<ShardStream[]> {
  const sources = new Map<string, { labels: Labels; memory: []; chunks: ChunkRef[] }>();
  for (const s of await store.selectSeries(tenant, matchers, from, through - 1n)) {
    const key = printLabels(s.labels);
    const src = sources.get(key);
    if (src) src.chunks.push(...s.chunks);
    else sources.set(key, { labels: s.labels, memory: [], chunks: [...s.chunks] });
  }
  // In label order: the answer to ties between streams must not depend on where a stream's data is.
  return [...sources.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, src]) => src);
}

/**
 * The store's streams with the ingester's samples of each joined in (streams only the ingester holds
 * join as streams without chunks), in label order.
 */
export function withIngesterSamples(store: readonly ShardStream[], lists: readonly StreamSampleList[]): ShardStream[] {
  if (lists.length === 0) return [...store];
  const byKey = new Map<string, ShardStream>();
  for (const s of store) byKey.set(printLabels(s.labels), s);
  for (const list of lists) {
    const s = byKey.get(list.key);
    byKey.set(list.key, s ? { ...s, ingesterSamples: list } : { labels: list.labels, memory: [], chunks: [], ingesterSamples: list });
  }
  return [...byKey.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, s]) => s);
}
