import { LokiError, printLabels, type Labels } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';
import { MemChunk } from '../chunk/mem-chunk.js';
import type { IngesterReader } from '../querier/ingester-reader.js';
import { InProcessShards } from '../shard/runner.js';
import { runLogSelection, runStreamSamples, type ShardExecution } from '../shard/selection.js';
import type { ShardStream } from '../shard/shard.js';

/**
 * An ingester holding one stream of `entries` (in time order) in one chunk, as the querier reads it:
 * whatever the matchers, that stream and its chunk, run through the query as an ingester runs it. For
 * querier tests that need no real ingester.
 */
export function oneStreamIngester(labels: Labels, entries: readonly Entry[]): IngesterReader {
  const chunk = new MemChunk('snappy', 16 * 1024, 1 << 30);
  for (const e of entries) chunk.append(e);
  const labelsString = printLabels(labels);
  const range = { minTs: entries[0]?.timestamp ?? 0n, maxTs: entries.at(-1)?.timestamp ?? 0n };
  const noStore = { getChunk: () => Promise.reject(new LokiError('internal', 'no_store', 'an ingester reads no stored chunk')) };
  const exec: ShardExecution = { runner: new InProcessShards(noStore), shardsPerQuery: 1 };
  const streams = (tenant: string): ShardStream[] => [{ tenant, labels, memory: [{ ...range, chunk: chunk.snapshot() }], chunks: [] }];
  return {
    selectLogs: async (s, ctx) => runLogSelection(exec, { ...s, kind: 'logs' }, streams(s.tenant), ctx),
    selectSamples: async (s, ctx) => runStreamSamples(exec, { ...s, kind: 'stream-samples' }, streams(s.tenant), ctx),
    streamStats: async () => [{ labels, labelsString, chunks: 1, entries: entries.length, bytes: chunk.lineBytes }],
  };
}
