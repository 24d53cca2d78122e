import { printLabels, type Labels } from '@loki-lite/shared';
import type { Entry } from '../chunk/entry.js';
import { MemChunk } from '../chunk/mem-chunk.js';
import type { IngesterReader } from '../querier/ingester-reader.js';

/**
 * An ingester holding one stream of `entries` (in time order) in one chunk, as the querier reads it:
 * whatever the matchers and range, that stream and its chunk. For querier tests that need no real ingester.
 */
export function oneStreamIngester(labels: Labels, entries: readonly Entry[]): IngesterReader {
  const chunk = new MemChunk('snappy', 16 * 1024, 1 << 30);
  for (const e of entries) chunk.append(e);
  const labelsString = printLabels(labels);
  const range = { minTs: entries[0]?.timestamp ?? 0n, maxTs: entries.at(-1)?.timestamp ?? 0n };
  return {
    streamChunks: async () => [{ labels, labelsString, chunks: [{ ...range, chunk: chunk.snapshot() }] }],
    streamStats: async () => [{ labels, labelsString, chunks: 1, entries: entries.length, bytes: chunk.lineBytes }],
  };
}
