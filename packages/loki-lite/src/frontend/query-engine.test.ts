import { describe, expect, it } from 'vitest';
import { oneStreamIngester } from '../testing/one-stream-ingester.js';
import { parseConfig } from '../config/load.js';
import type { LogStore } from '../storage/log-store.js';
import { Admission } from './admission.js';
import { Querier } from '../querier/querier.js';
import { QueryEngine, type RangeQueryRequest } from './query-engine.js';
import { queryHash, queryLogFields, type QueryRecord } from './query-log.js';
import { Limits } from '../limits/limits.js';

/*
 * The engine without HTTP, as the ruler or a query-frontend will call it: the limits answer with Loki's
 * texts, the values come back typed, and the deadline holds for a query that never yields to a timer.
 */

const SECOND = 1_000_000_000n;
const T = 1_764_547_200n * SECOND;

/** A config with these limits_config keys (YAML flow entries) beside the engine tests' own. */
function configWith(limits: string, more = '') {
  return parseConfig(`
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: inmemory, schema: v13, index: {prefix: index_, period: 24h}}]}
ingester: {wal: {enabled: false}}
limits_config: {reject_old_samples: false, split_queries_by_interval: 0${limits ? `, ${limits}` : ''}}
${more}`).config;
}

/**
 * An engine over one in-memory stream {app="a"} with a line every second from T+1s to T+n s. `overrides`:
 * per-tenant limits_config keys.
 */
function engineWith(n: number, limits = '', onQuery?: (r: QueryRecord) => void, overrides: Record<string, string> = {}, more = '') {
  const entries = Array.from({ length: n }, (_, i) => ({ timestamp: T + BigInt(i + 1) * SECOND, line: `line ${i + 1}`, structuredMetadata: [] }));
  const ingester = oneStreamIngester([{ name: 'app', value: 'a' }], entries);
  const store = { selectSeries: async () => [], getChunk: async () => Buffer.alloc(0) } as unknown as LogStore;
  const config = configWith(limits, more);
  const tenantLimits = new Limits(config.limits_config, new Map(Object.entries(overrides).map(([tenant, yaml]) => [tenant, configWith(yaml).limits_config])));
  const admission = new Admission({ maxConcurrent: 1, maxOutstandingPerTenant: 1 });
  return { engine: new QueryEngine(new Querier(ingester, store), admission, config, tenantLimits, onQuery), admission };
}

const range = (over: Partial<RangeQueryRequest>): RangeQueryRequest => ({
  tenant: 't',
  query: '{app="a"}',
  start: T,
  end: T + 3600n * SECOND,
  step: 60n * SECOND,
  limit: 100,
  direction: 'forward',
  categorize: false,
  ...over,
});

describe('QueryEngine', () => {
  it("refuses with Loki's texts before a query takes a slot", async () => {
    const { engine, admission } = engineWith(10, 'max_entries_limit_per_query: 50, max_query_length: 1h');
    await expect(engine.range(range({ limit: 51 }))).rejects.toThrow('max entries limit per query exceeded, limit > max_entries_limit_per_query (51 > 50)');
    await expect(engine.range(range({ limit: 10, end: T + 3601n * SECOND }))).rejects.toThrow(
      'the query time range exceeds the limit (query length: 1h1s, limit: 1h)',
    );
    await expect(engine.range(range({ limit: 10, end: T - SECOND }))).rejects.toThrow('end timestamp must not be before or equal to start time');
    await expect(engine.instant({ tenant: 't', query: '{app="a"}', time: T })).rejects.toThrow(
      'log queries are not supported as an instant query type, please change your query to a range query type',
    );
    expect(admission.active).toBe(0);
  });

  it("holds each query to its tenant's limits, and an a|b query to the tenants' combined", async () => {
    const { engine } = engineWith(10, '', undefined, { strict: 'max_entries_limit_per_query: 5' });
    await expect(engine.range(range({ tenant: 'strict', limit: 6 }))).rejects.toThrow('(6 > 5)');
    await expect(engine.range(range({ tenant: 'other|strict', limit: 6 }))).rejects.toThrow('(6 > 5)');
    expect((await engine.range(range({ tenant: 't', limit: 6 }))).value.kind).toBe('streams');
  });

  it('gives a log query its streams and a metric query its matrix, with the stats of the read', async () => {
    const { engine } = engineWith(10);
    const logs = await engine.range(range({ limit: 3 }));
    expect(logs.value.kind === 'streams' && logs.value.streams.map((s) => s.entries.map((e) => e.line))).toEqual([['line 1', 'line 2', 'line 3']]);
    const counts = await engine.range(range({ query: 'count_over_time({app="a"}[5s])', start: T + 5n * SECOND, end: T + 10n * SECOND, step: 5n * SECOND }));
    expect(counts.value).toEqual({
      kind: 'matrix',
      // the line at T+10s, the query's end, is read by no window (see the next test)
      series: [{ labels: [{ name: 'app', value: 'a' }], timestamps: [T + 5n * SECOND, T + 10n * SECOND], values: [5, 4] }],
    });
    expect(counts.stats.totalLinesProcessed).toBeGreaterThan(0);
    const scalar = await engine.instant({ tenant: 't', query: '1 + 1', time: T });
    expect(scalar.value).toEqual({ kind: 'scalar', time: T, value: 2 });
  });

  it("counts a line in the windows (t - range, t] of the steps before the query's end, and at the end in none, as Loki does", async () => {
    const { engine } = engineWith(20);
    const count = (time: bigint) => engine.instant({ tenant: 't', query: 'count_over_time({app="a"}[5s])', time });
    // lines at T+6s .. T+9s: T+5s is the window's open start, T+10s the query's time
    expect((await count(T + 10n * SECOND)).value).toEqual({ kind: 'vector', time: T + 10n * SECOND, samples: [expect.objectContaining({ value: 4 })] });
    const steps = await engine.range(range({ query: 'count_over_time({app="a"}[5s])', start: T + 10n * SECOND, end: T + 12n * SECOND, step: SECOND }));
    // T+10s and T+11s are steps before the end: their own lines count; T+12s's does not
    expect(steps.value.kind === 'matrix' && steps.value.series[0]!.values).toEqual([5, 5, 4]);
  });

  it('reads a log query over an instant (start equal to end) from max_look_back_period before it, its end excluded', async () => {
    const at = T + 10n * SECOND;
    const lines = async (engine: QueryEngine) => {
      const v = (await engine.range(range({ start: at, end: at }))).value;
      return v.kind === 'streams' ? v.streams.flatMap((s) => s.entries.map((e) => e.line)) : [];
    };
    // the default 30s reaches back past the first line, at T+1s
    expect(await lines(engineWith(20).engine)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9']);
    const fiveSeconds = engineWith(20, '', undefined, {}, 'querier: {engine: {max_look_back_period: 5s}}').engine;
    expect(await lines(fiveSeconds)).toEqual(['line 5', 'line 6', 'line 7', 'line 8', 'line 9']);
  });

  it("hands the read loop query_timeout's deadline and the query's signal, which it checks itself where no timer can run", async () => {
    const { engine } = engineWith(10, 'query_timeout: 5m');
    const before = Date.now();
    const { stats } = await engine.instant({ tenant: 't', query: 'count_over_time({app="a"}[1h])', time: T + 3600n * SECOND });
    expect(stats.deadlineMs).toBeGreaterThanOrEqual(before + 300_000);
    expect(stats.signal).toBeInstanceOf(AbortSignal);
    expect(stats.signal!.aborted).toBe(false);
  });

  it('does not run a query whose caller is already gone', async () => {
    const { engine, admission } = engineWith(10);
    const caller = new AbortController();
    caller.abort();
    await expect(engine.range(range({ signal: caller.signal }))).rejects.toMatchObject({ kind: 'canceled', message: 'context canceled' });
    expect(admission.active).toBe(0);
  });

  it('tells of every range and instant query, answered or failed, what Loki logs for it', async () => {
    const records: QueryRecord[] = [];
    const { engine } = engineWith(10, 'max_entries_limit_per_query: 50', (r) => records.push(r));
    await engine.range(range({ query: '{app="a"} |= "line"', limit: 3 }));
    await engine.range(range({ query: 'sum(count_over_time({app="a"}[1m]))', limit: 10 }));
    await engine.instant({ tenant: 't', query: 'count_over_time({app="a"}[1h])', time: T + 3600n * SECOND });
    await expect(engine.range(range({ limit: 51 }))).rejects.toThrow('max entries limit per query exceeded');
    expect(records.map((r) => [r.kind, r.queryType, r.returnedLines, r.error === undefined])).toEqual([
      ['range', 'filter', 3, true],
      ['range', 'metric', 0, true],
      ['instant', 'metric', 0, true],
      ['range', 'limited', 0, false],
    ]);
    const fields = Object.fromEntries(queryLogFields(records[0]!, 200));
    expect(Object.keys(fields)).toEqual([
      'org_id',
      'latency',
      'query',
      'query_hash',
      'query_type',
      'range_type',
      'length',
      'step',
      'duration',
      'status',
      'limit',
      'returned_lines',
      'throughput',
      'total_bytes',
      'total_lines',
      'total_entries',
      'queue_time',
    ]);
    expect(fields).toMatchObject({
      org_id: 't',
      latency: 'fast',
      query: '{app="a"} |= "line"',
      query_hash: queryHash('{app="a"} |= "line"'),
      query_type: 'filter',
      range_type: 'range',
      length: '1h0m0s',
      step: '1m0s',
      status: '200',
      limit: 3,
      returned_lines: 3,
      total_lines: 10,
      total_entries: 3,
    });
    expect(fields.duration).toMatch(/^\d+(\.\d+)?(ns|µs|ms|s)$/);
  });

  it('hashes a query as Loki does (FNV-1, 32 bits)', () => {
    expect(queryHash('')).toBe(0x811c9dc5);
    expect(queryHash('a')).toBe(0x050c5d7e);
  });
});
