import { afterEach, describe, expect, it } from 'vitest';
import type { Counter, Gauge } from 'prom-client';
import { eventually } from '../testing/eventually.js';
import { ingesterFixture, stopIngesterFixtures, ingestStream } from '../testing/ingester-fixture.js';

afterEach(stopIngesterFixtures);

const T0 = BigInt(Date.now()) * 1_000_000n;

async function valueOf(metric: Counter | Gauge, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

describe("the WAL's metrics, under Loki's names", () => {
  it('count the records and bytes logged, and what a restart after kill -9 recovers', async () => {
    const fixture = ingesterFixture('{flush_check_period: 1h, index_cut_period: 1h, wal: {checkpoint_duration: 1h, flush_on_shutdown: false}}');
    const { metrics } = fixture;
    const first = fixture.newIngester();
    await first.start();
    await first.push('t', [
      ingestStream('{s="a"}', [
        [T0, 'one'],
        [T0 + 1n, 'two'],
      ]),
    ]);
    await first.push('t', [ingestStream('{s="b"}', [[T0, 'three']])]);
    expect(await valueOf(metrics.walRecordsLogged)).toBe(2);
    expect(await valueOf(metrics.walLoggedBytes)).toBeGreaterThan('onetwothree'.length);

    fixture.crash(first);
    const second = fixture.newIngester();
    await second.start();
    expect(await valueOf(metrics.walRecoveredStreams)).toBe(2);
    expect(await valueOf(metrics.walRecoveredEntries)).toBe(3);
    expect(await valueOf(metrics.walRecoveredBytes)).toBe('onetwothree'.length);
    expect((await metrics.walReplayDuration.get()).values).toHaveLength(1);
  });

  it('count and time checkpoints', async () => {
    const fixture = ingesterFixture('{flush_check_period: 1h, index_cut_period: 1h, wal: {checkpoint_duration: 50ms}}');
    const { metrics } = fixture;
    const ingester = fixture.newIngester();
    await ingester.start();
    await ingester.push('t', [
      ingestStream('{s="a"}', [
        [T0, 'one'],
        [T0 + 1n, 'two'],
      ]),
    ]);
    // a checkpoint is counted when it starts, its bytes once it is written
    await eventually(async () => (await valueOf(metrics.checkpointLoggedBytes)) > 0);
    expect(await valueOf(metrics.checkpointCreations)).toBeGreaterThanOrEqual(1);
    expect(await valueOf(metrics.checkpointCreationsFailed)).toBe(0);
    expect(
      (await metrics.checkpointDuration.get()).values.find((v) => v.metricName === 'loki_ingester_checkpoint_duration_seconds_count')?.value,
    ).toBeGreaterThanOrEqual(1);
  });
});
