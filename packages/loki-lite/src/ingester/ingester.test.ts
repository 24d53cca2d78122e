import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodePushBody, encodePushRequestProto, snappyCompress } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ingesterFixture, type IngesterFixture, stopIngesterFixtures, ingestStream } from '../testing/ingester-fixture.js';
import { Metrics } from '../metrics.js';
import { newLabelMatcher } from '@loki-lite/shared';
import { MemoryObjectStore } from '../storage/memory/memory-store.js';
import { Ingester } from './ingester.js';
import { validateStreamLabels } from '../distributor/validate.js';
import { withServiceName } from '../labels/service-name.js';
import { scanRecords } from './wal/record.js';
import { eventually } from '../testing/eventually.js';
import { streamEntries } from '../testing/chunk-entries.js';

afterEach(stopIngesterFixtures);

function setup(ingesterYaml: string) {
  const fixture = ingesterFixture(ingesterYaml);
  return { ...fixture, ingester: fixture.newIngester() };
}

const T0 = BigInt(Date.now()) * 1_000_000n;

async function flushedByReason(metrics: Metrics): Promise<Record<string, number>> {
  const m = await metrics.chunksFlushed.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('Ingester', () => {
  it('cuts chunks at the target size, on idleness and at max_chunk_age, and indexes them on the index timer', async () => {
    const { ingester, objects, metrics } = setup(
      '{chunk_target_size: 2KB, chunk_block_size: 512B, flush_check_period: 20ms, chunk_idle_period: 200ms, max_chunk_age: 1h, index_cut_period: 50ms}',
    );
    await ingester.start();
    await ingester.push('t', [
      ingestStream(
        '{s="full"}',
        Array.from({ length: 100 }, (_, i): [bigint, string] => [T0 + BigInt(i), `${i} ${randomBytes(60).toString('hex')}`]),
      ),
    ]);
    await ingester.push('t', [ingestStream('{s="idle"}', [[T0, 'lonely line']])]);
    const hour = 3_600_000_000_000n;
    await ingester.push('t', [
      ingestStream('{s="old"}', [
        [T0 - 2n * hour, 'first'],
        [T0 - hour + 1n, 'second'],
      ]),
    ]);
    await eventually(async () => {
      const r = await flushedByReason(metrics);
      return (r.full ?? 0) >= 2 && r.idle === 2 && r.max_age === 1;
    });
    // without any /flush, the index timer lists the flushed chunks
    await eventually(async () => (await objects.list('index/')).length > 0);
    expect((await objects.list('chunks/t/')).length).toBeGreaterThanOrEqual(5);
  });

  it('keeps uncompressed heads under head_memory_limit by compressing the largest early, losing nothing', async () => {
    const { ingester } = setup('{head_memory_limit: 32KB, chunk_block_size: 256KB, chunk_target_size: 1MB, wal: {enabled: false}}');
    await ingester.start();
    const sent = new Map<string, string[]>();
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      const streams = Array.from({ length: 50 }, (_, s) => {
        const lines = Array.from({ length: 5 }, (_, k) => `stream ${s} round ${round} line ${k} ${randomBytes(20).toString('hex')}`);
        sent.set(`${s}`, [...(sent.get(`${s}`) ?? []), ...lines]);
        return ingestStream(
          `{s="${s}"}`,
          lines.map((l, k): [bigint, string] => [T0 + BigInt(round * 10 + k), l]),
        );
      });
      await ingester.push('t', streams);
      peak = Math.max(peak, ingester.headMemoryUsed);
    }
    // 20 rounds x 50 streams x ~110 bytes is ~110KB of heads without the limit.
    expect(peak).toBeLessThanOrEqual(32 * 1024 + 50 * 5 * 200);
    expect(ingester.headMemoryUsed).toBeLessThanOrEqual(32 * 1024);
    for (const [s, lines] of sent) {
      const got = streamEntries(ingester.streamsMatching('t', [newLabelMatcher('s', '=', s)])[0]!, T0, T0 + 1000n).map((e) => e.line);
      expect(got).toEqual(lines);
    }
  });

  it('puts a label string in one stream per tenant, and in a new one once the old was forgotten', async () => {
    const { ingester } = setup('{chunk_idle_period: 1ms, index_cut_period: 1h}');
    await ingester.start();
    const entry = (line: string, ts: bigint) => ingestStream('{s="a"}', [[ts, line]]);
    const lines = (tenant: string) => ingester.streamsMatching(tenant, []).flatMap((s) => streamEntries(s, 0n, T0 + 10n).map((e) => e.line));
    await ingester.push('t1', [entry('one', T0)]);
    await ingester.push('t2', [entry('other tenant', T0)]);
    await ingester.push('t1', [entry('two', T0 + 1n)]);
    expect(lines('t1')).toEqual(['one', 'two']);
    expect(lines('t2')).toEqual(['other tenant']);
    await new Promise((r) => setTimeout(r, 5));
    await ingester.flushAll(); // flushed, indexed, and the idle streams forgotten
    expect(ingester.streamsMatching('t1', [])).toEqual([]);
    await ingester.push('t1', [entry('three', T0 + 2n)]);
    expect(lines('t1')).toEqual(['three']);
  });

  it('keeps a flushed chunk readable from memory until an index file lists it, then drops it', async () => {
    const { ingester, objects } = setup('{flush_check_period: 20ms, chunk_idle_period: 50ms, index_cut_period: 1h}');
    await ingester.start();
    await ingester.push('t', [
      ingestStream('{s="a"}', [
        [T0, 'one'],
        [T0 + 1n, 'two'],
      ]),
    ]);
    const matchers = [newLabelMatcher('s', '=', 'a')];
    await eventually(async () => (await objects.list('chunks/')).length === 1);
    expect((await objects.list('index/')).length).toBe(0);
    expect(streamEntries(ingester.streamsMatching('t', matchers)[0]!, T0, T0 + 10n).map((e) => e.line)).toEqual(['one', 'two']);
    await ingester.flushAll();
    expect((await objects.list('index/')).length).toBe(1);
    expect(ingester.streamsMatching('t', matchers)).toEqual([]);
  });
});

describe('Ingester WAL push-body records', () => {
  it('name the service_name sources; replay stores every stream under the labels it had, once', async () => {
    const first = setup('{}');
    await first.ingester.start();
    const body = snappyCompress(
      encodePushRequestProto({
        streams: [
          { labels: '{b="2", a="1"}', entries: [{ timestamp: T0, line: 'unsorted labels', structuredMetadata: [] }] },
          { labels: '{app="x"}', entries: [{ timestamp: T0, line: 'gets service_name', structuredMetadata: [] }] },
        ],
      }),
    );
    const decoded = decodePushBody(body, { contentType: 'application/x-protobuf', contentEncoding: undefined, maxMessageBytes: 1 << 20 });
    // As the distributor hands them over: service_name added to every stream.
    const serviceNameFrom = ['service', 'app'];
    await first.ingester.push(
      't',
      decoded.streams.map((s) => ({
        ...withServiceName(validateStreamLabels(s.labels, first.config.limits_config), serviceNameFrom),
        entries: s.entries,
      })),
      { snappyProtobuf: body, serviceNameFrom },
    );

    const walDir = first.config.ingester.wal.dir;
    const records = walRecords(walDir);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'push', serviceNameFrom });

    const second = await restartedOver(first);
    const replayed = second.streamsMatching('t', []).map((s) => [s.labelsString, streamEntries(s, 0n, T0 + 1n).map((e) => e.line)]);
    expect(replayed.sort()).toEqual([
      ['{a="1", b="2", service_name="unknown_service"}', ['unsorted labels']],
      ['{app="x", service_name="x"}', ['gets service_name']],
    ]);
  });

  it('list just the stored entries when the stream dropped some as duplicates, and replay those', async () => {
    const first = setup('{}');
    await first.ingester.start();
    const entries = [
      [T0, 'a'],
      [T0 + 2n, 'b'],
      [T0 + 1n, 'late'],
      [T0, 'a'],
      [T0 + 1n, 'late'],
      [T0 + 2n, 'b'],
    ] as const;
    const body = snappyCompress(
      encodePushRequestProto({
        streams: [{ labels: '{s="dup"}', entries: entries.map(([timestamp, line]) => ({ timestamp, line, structuredMetadata: [] })) }],
      }),
    );
    const decoded = decodePushBody(body, { contentType: 'application/x-protobuf', contentEncoding: undefined, maxMessageBytes: 1 << 20 });
    await first.ingester.push(
      't',
      decoded.streams.map((s) => ({ ...validateStreamLabels(s.labels, first.config.limits_config), entries: s.entries })),
      { snappyProtobuf: body, serviceNameFrom: [] },
    );
    const lines = (ingester: Ingester) => ingester.streamsMatching('t', []).flatMap((s) => streamEntries(s, 0n, T0 + 10n).map((e) => e.line));
    expect(lines(first.ingester)).toEqual(['a', 'late', 'b']);
    // A record holds exactly what its push stored, so a failed write can take just that back out of memory.
    const records = walRecords(first.config.ingester.wal.dir);
    expect(
      records.map((r) => (r.kind === 'entries' ? r.streams.flatMap((st) => Array.from({ length: st.entries.count }, (_, i) => st.entries.line(i))) : r.kind)),
    ).toEqual([['a', 'b', 'late']]);
    const second = await restartedOver(first);
    expect(lines(second)).toEqual(['a', 'late', 'b']);
  });

  it('list the stored entries instead once an entry is refused, and replay just those', async () => {
    const first = setup('{max_chunk_age: 2h}');
    await first.ingester.start();
    const hour = 3_600_000_000_000n;
    const body = snappyCompress(
      encodePushRequestProto({
        streams: [
          {
            labels: '{s="whole"}',
            entries: [
              { timestamp: T0, line: 'kept', structuredMetadata: [] },
              { timestamp: T0, line: 'kept', structuredMetadata: [] },
            ],
          },
          {
            labels: '{s="part"}',
            entries: [
              { timestamp: T0, line: 'newest', structuredMetadata: [] },
              { timestamp: T0 - 2n * hour, line: 'too far behind', structuredMetadata: [] },
            ],
          },
          { labels: '{s="after"}', entries: [{ timestamp: T0, line: 'after the refusal', structuredMetadata: [] }] },
        ],
      }),
    );
    const decoded = decodePushBody(body, { contentType: 'application/x-protobuf', contentEncoding: undefined, maxMessageBytes: 1 << 20 });
    const pushed = first.ingester.push(
      't',
      decoded.streams.map((s) => ({ ...validateStreamLabels(s.labels, first.config.limits_config), entries: s.entries })),
      { snappyProtobuf: body, serviceNameFrom: [] },
    );
    await expect(pushed).rejects.toThrow(/entry too far behind/);
    expect(walRecords(first.config.ingester.wal.dir).map((r) => r.kind)).toEqual(['entries']);

    const second = await restartedOver(first);
    const replayed = second.streamsMatching('t', []).map((s) => [s.labelsString, streamEntries(s, 0n, T0 + 1n).map((e) => e.line)]);
    expect(replayed.sort()).toEqual([
      ['{s="after"}', ['after the refusal']],
      ['{s="part"}', ['newest']],
      ['{s="whole"}', ['kept']],
    ]);
  });
});

function walRecords(walDir: string) {
  return readdirSync(walDir)
    .filter((f) => f.startsWith('segment-'))
    .flatMap((f) => scanRecords(readFileSync(path.join(walDir, f))).records);
}

/** A second ingester over the same WAL, as after the first one crashed; started, so it has replayed. */
async function restartedOver(first: IngesterFixture<MemoryObjectStore>): Promise<Ingester> {
  const ingester = first.newIngester();
  await ingester.start();
  return ingester;
}
