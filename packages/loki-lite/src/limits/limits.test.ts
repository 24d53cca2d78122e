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
});
