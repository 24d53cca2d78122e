import { EntryBatch, NO_METADATA } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { Limits } from '../limits/limits.js';
import { Metrics } from '../metrics.js';
import { RecordingLogger } from '../testing/recording-logger.js';
import type { IngestStream } from '../ingester/push-request.js';
import { Distributor } from './distributor.js';

const BASE =
  'schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\nstorage_config: {filesystem: {directory: /tmp/x}}\n';
const limitsOf = (yaml: string) => parseConfig(`${BASE}limits_config: {discover_service_name: [], ${yaml}}`).config.limits_config;

function push(distributor: Distributor, tenant: string, line: string): Promise<void> {
  const entries = EntryBatch.fromEntries([{ timestamp: BigInt(Date.now()) * 1_000_000n, line, structuredMetadata: NO_METADATA }]);
  return distributor.push(tenant, { streams: [{ labels: '{app="a"}', entries }] });
}

describe('Distributor', () => {
  it("validates each push with its tenant's limits: one tenant's override does not touch the others", async () => {
    const received: Array<[string, number]> = [];
    const sink = { push: async (tenant: string, streams: readonly IngestStream[]) => void received.push([tenant, streams.length]) };
    const limits = new Limits(limitsOf('max_line_size: 1KB'), new Map([['strict', limitsOf('max_line_size: 8B')]]));
    const distributor = new Distributor({ limits, sink, metrics: new Metrics('test') });
    await push(distributor, 'relaxed', 'a line longer than eight bytes');
    await expect(push(distributor, 'strict', 'a line longer than eight bytes')).rejects.toThrow(/^Max entry size '8' bytes exceeded/);
    await push(distributor, 'strict', 'short');
    // the same label string, validated again under the other limits, is still accepted for the first tenant
    await push(distributor, 'relaxed', 'another line longer than eight bytes');
    expect(received).toEqual([
      ['relaxed', 1],
      ['strict', 1],
      ['relaxed', 1],
    ]);
  });

  it('tees every valid push to its tees without waiting for them; a failing tee does not fail the push', async () => {
    const teed: string[] = [];
    const failing = {
      duplicate: () => {
        throw new Error('pattern ingester down');
      },
    };
    const recording = { duplicate: (tenant: string, streams: readonly IngestStream[]) => void teed.push(`${tenant} ${streams[0]!.entries.line(0)}`) };
    const log = new RecordingLogger('warn');
    const distributor = new Distributor({
      limits: new Limits(limitsOf('max_line_size: 1KB')),
      sink: { push: async () => {} },
      tees: [failing, recording],
      metrics: new Metrics('test'),
      log,
    });
    await push(distributor, 'a', 'first');
    await expect(push(distributor, 'a', 'x'.repeat(2000))).rejects.toThrow(/Max entry size/);
    expect(teed).toEqual(['a first']);
    expect(log.withMsg(/a tee failed to take a push of tenant a: pattern ingester down/)).toHaveLength(1);
  });
});
