import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { Limits } from './limits.js';

describe('Limits', () => {
  it("answers a tenant's overrides where it has them, else limits_config, one object for all the others", () => {
    const base =
      'schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\nstorage_config: {filesystem: {directory: /tmp/x}}\n';
    const defaults = parseConfig(`${base}limits_config: {max_line_size: 1KB}`).config.limits_config;
    const strict = parseConfig(`${base}limits_config: {max_line_size: 10B}`).config.limits_config;
    const limits = new Limits(defaults, new Map([['strict', strict]]));
    expect(limits.forTenant('strict').max_line_size).toBe(10);
    expect(limits.forTenant('a').max_line_size).toBe(1024);
    expect(limits.forTenant('b')).toBe(limits.forTenant('a'));
  });

  it('combines the limits of an a|b query as Loki does: smallest non-zero entries and length, smallest series, largest timeout, and no split when any tenant has none', () => {
    const base =
      'schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\nstorage_config: {filesystem: {directory: /tmp/x}}\n';
    const of = (yaml: string) => parseConfig(`${base}limits_config: {${yaml}}`).config.limits_config;
    const limits = new Limits(
      of('max_entries_limit_per_query: 0, max_query_length: 0, max_query_series: 500, query_timeout: 1m, split_queries_by_interval: 1h'),
      new Map([
        ['a', of('max_entries_limit_per_query: 100, max_query_length: 30d, max_query_series: 50, query_timeout: 5m, split_queries_by_interval: 30m')],
        ['b', of('max_entries_limit_per_query: 2000, max_query_length: 7d, max_query_series: 0, query_timeout: 2m, split_queries_by_interval: 0s')],
      ]),
    );
    const H = 3_600_000_000_000n;
    expect(limits.forQuery('a')).toBe(limits.forTenant('a'));
    expect(limits.forQuery('a|b')).toEqual({
      max_entries_limit_per_query: 100,
      max_query_length: 7n * 24n * H,
      max_query_series: 0,
      query_timeout: 5n * 60_000_000_000n,
      split_queries_by_interval: 0n,
    });
    // c has the defaults: no entries or length limit, a 1h split
    expect(limits.forQuery('a|c')).toMatchObject({
      max_entries_limit_per_query: 100,
      max_query_length: 30n * 24n * H,
      max_query_series: 50,
      split_queries_by_interval: H,
    });
    expect(limits.forQuery('c|d')).toMatchObject({ max_entries_limit_per_query: 0, max_query_length: 0n });
  });
});
