import { type Label, type LabelMatcher, type LabelMatcherData, type Labels, newLabelMatcher, printLabels } from '@loki-lite/shared';
import type { MemoryStreamStats } from '../chunk/snapshot.js';
import { attachDeletes, deleteFiltersOf, withoutCoveredChunks } from '../shard/deletes.js';
import { hasData } from '../shard/plan.js';
import {
  type CallContext,
  type MemoryLogs,
  type MemoryLogsSelection,
  type MemorySamples,
  type MemorySamplesSelection,
  type MemorySelectionScope,
  runLogSelection,
  runStreamSamples,
  type ShardExecution,
} from '../shard/selection.js';
import type { ShardStream } from '../shard/shard.js';
import type { Stream } from './stream.js';

/*
 * The ingester's side of the querier's reads (querier/ingester-reader.ts, which Ingester implements): a
 * selection runs here, pipeline and all, over snapshots of the matching streams' chunks, and only its
 * answer leaves (log lines, or samples not yet aggregated); metadata queries get counts. No live stream
 * leaves the ingester.
 */

/** The seam carries matchers as data; they are compiled here, once per call. */
export function compileMatchers(matchers: readonly LabelMatcherData[]): LabelMatcher[] {
  return matchers.map((m) => newLabelMatcher(m.name, m.type, m.value));
}

/** A log selection over the streams' memory. Snapshots are taken before the first await (see the caller). */
export function selectLogsIn(streams: Iterable<Stream>, selection: MemoryLogsSelection, exec: ShardExecution, ctx: CallContext): Promise<MemoryLogs> {
  const { tenant, from, through, discoverLogLevels, query, direction, limit, categorize } = selection;
  const spec = { kind: 'logs', tenant, from, through, discoverLogLevels, query, direction, limit, categorize } as const;
  return runLogSelection(exec, spec, shardStreamsOf(streams, selection), ctx);
}

/** A range aggregation's samples per stream over the streams' memory; snapshots as selectLogsIn. */
export function selectSamplesIn(streams: Iterable<Stream>, selection: MemorySamplesSelection, exec: ShardExecution, ctx: CallContext): Promise<MemorySamples> {
  const { tenant, from, through, discoverLogLevels, query, grouping } = selection;
  const spec = { kind: 'stream-samples', tenant, from, through, discoverLogLevels, query, grouping } as const;
  return runStreamSamples(exec, spec, shardStreamsOf(streams, selection), ctx);
}

/**
 * The streams with snapshots of their chunks in the selection's range, in label order, each with the
 * delete requests that match it (chunks those cover whole left out).
 */
function shardStreamsOf(streams: Iterable<Stream>, selection: MemorySelectionScope): ShardStream[] {
  const { tenant, from, through, streamLabel } = selection;
  const out: ShardStream[] = [];
  for (const s of streams) {
    const memory = s.chunkSnapshots(from, through);
    if (memory.length > 0) out.push({ tenant, labels: streamLabel ? withLabel(s.labels, streamLabel) : s.labels, memory, chunks: [] });
  }
  const filters = deleteFiltersOf(selection.deletes);
  const withDeletes =
    filters.length === 0
      ? out
      : attachDeletes(out, () => filters)
          .map(withoutCoveredChunks)
          .filter(hasData);
  const keyed = withDeletes.map((s) => ({ s, key: printLabels(s.labels) }));
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ s }) => s);
}

/** `labels` with `label` added in its sorted place. */
function withLabel(labels: Labels, label: Label): Labels {
  return [...labels, label].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Each stream with chunks overlapping [from, through], with their counts. */
export function streamStatsOf(streams: Iterable<Stream>, from: bigint, through: bigint): MemoryStreamStats[] {
  const out: MemoryStreamStats[] = [];
  for (const s of streams) {
    const stats = s.chunkStats(from, through);
    if (stats.chunks > 0) out.push({ labels: s.labels, labelsString: s.labelsString, ...stats });
  }
  return out;
}
