import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { Limits } from '../limits/limits.js';
import { ingesterFixture, stopIngesterFixtures, ingestStream } from '../testing/ingester-fixture.js';
import { Ingester } from './ingester.js';

afterEach(stopIngesterFixtures);

const T0 = BigInt(Date.now()) * 1_000_000n;

describe('per-tenant limits in the ingester', () => {
  it("holds each tenant to its own active-stream limit: an override for one leaves the others at limits_config's", async () => {
    const fixture = ingesterFixture('{wal: {enabled: false}}');
    const strict =
      parseConfig(`schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: inmemory, schema: v13, index: {prefix: index_, period: 24h}}]}
limits_config: {max_global_streams_per_user: 1}`).config.limits_config;
    const limits = new Limits(fixture.config.limits_config, new Map([['strict', strict]]));
    const ingester = new Ingester({ config: fixture.config.ingester, limits, store: fixture.store, metrics: fixture.metrics });
    try {
      await ingester.start();
      await ingester.push('strict', [ingestStream('{s="a"}', [[T0, 'x']])]);
      await expect(ingester.push('strict', [ingestStream('{s="b"}', [[T0, 'x']])])).rejects.toThrow(/Maximum active stream limit exceeded/);
      await ingester.push('relaxed', [ingestStream('{s="a"}', [[T0, 'x']])]);
      await ingester.push('relaxed', [ingestStream('{s="b"}', [[T0, 'x']])]);
      expect(ingester.streamsMatching('relaxed', [])).toHaveLength(2);
    } finally {
      await ingester.stop();
    }
  });
});
