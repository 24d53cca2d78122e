import { newLabelMatcher } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { streamEntries } from '../testing/chunk-entries.js';
import { eventually } from '../testing/eventually.js';
import { ingesterFixture, stopIngesterFixtures, ingestStream } from '../testing/ingester-fixture.js';
import { Ingester } from './ingester.js';
import { Limits } from '../limits/limits.js';

afterEach(stopIngesterFixtures);

const T0 = BigInt(Date.now()) * 1_000_000n;
const MATCH_A = [newLabelMatcher('s', '=', 'a')];

/** The lines of {s="a"} the ingester answers from memory. */
function linesInMemory(ingester: Ingester): string[] {
  return ingester.streamsMatching('t', MATCH_A).flatMap((s) => streamEntries(s, T0, T0 + 10n).map((e) => e.line));
}

describe('ingester.chunk_retain_period', () => {
  it('keeps an indexed chunk answered from memory for the period, and lets it go on the flush check after', async () => {
    const fixture = ingesterFixture('{wal: {enabled: false}, chunk_retain_period: 1m, flush_check_period: 10ms, index_cut_period: 1h}');
    let clockMs = Date.now();
    const ingester = new Ingester({
      config: fixture.config.ingester,
      limits: new Limits(fixture.config.limits_config),
      store: fixture.store,
      metrics: fixture.metrics,
      nowMs: () => clockMs,
    });
    try {
      await ingester.start();
      await ingester.push('t', [
        ingestStream('{s="a"}', [
          [T0, 'one'],
          [T0 + 1n, 'two'],
        ]),
      ]);
      await ingester.flushAll(); // flushed and listed by an index file
      expect((await fixture.objects.list('chunks/')).length).toBe(1);
      expect((await fixture.objects.list('index/')).length).toBe(1);
      expect(linesInMemory(ingester)).toEqual(['one', 'two']);

      clockMs += 59_999;
      await ingester.flushAll(); // lets go of what is due, synchronously at its end: nothing yet
      expect(linesInMemory(ingester)).toEqual(['one', 'two']);
      expect(ingester.chunksInMemory()).toBe(1);

      clockMs += 1;
      await eventually(async () => ingester.chunksInMemory() === 0);
      expect(linesInMemory(ingester)).toEqual([]);
    } finally {
      await ingester.stop();
    }
  });

  it('is 0 by default: the chunk leaves memory as soon as an index file lists it', async () => {
    const fixture = ingesterFixture('{wal: {enabled: false}, index_cut_period: 1h}');
    expect(fixture.config.ingester.chunk_retain_period).toBe(0n);
    const ingester = fixture.newIngester();
    await ingester.start();
    await ingester.push('t', [ingestStream('{s="a"}', [[T0, 'one']])]);
    await ingester.flushAll();
    expect(ingester.chunksInMemory()).toBe(0);
  });

  it('leaves retained chunks out of WAL checkpoints, so a restart does not flush them a second time', async () => {
    const fixture = ingesterFixture('{chunk_retain_period: 1h, index_cut_period: 1h, wal: {flush_on_shutdown: false}}');
    const first = fixture.newIngester();
    await first.start();
    await first.push('t', [
      ingestStream('{s="a"}', [
        [T0, 'one'],
        [T0 + 1n, 'two'],
      ]),
    ]);
    await first.flushAll(); // flush, index cut, then a checkpoint while the chunk is retained
    expect(first.chunksInMemory()).toBe(1);
    await first.stop();

    const second = fixture.newIngester();
    await second.start();
    expect(second.chunksInMemory()).toBe(0);
    await second.flushAll();
    expect((await fixture.objects.list('chunks/')).length).toBe(1);
  });
});
