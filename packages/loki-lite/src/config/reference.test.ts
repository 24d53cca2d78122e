import { describe, expect, it } from 'vitest';
import { ConfigError } from '@loki-lite/shared';
import { parseConfig } from './load.js';
import { LOKI_CONFIG_KEYS as KEYS } from './loki-config-keys.js';

// Keys whose value is a list of blocks; the list names them without an index.
const LISTS_OF_BLOCKS = new Set([
  'schema_config.configs',
  'limits_config.otlp_config.resource_attributes.attributes_config',
  'limits_config.otlp_config.scope_attributes',
  'limits_config.otlp_config.log_attributes',
]);

/** A config document that sets `key` (and nothing else) to `value`, as JSON, which is YAML. */
function settingOnly(key: string, value: unknown): string {
  const parts = key.split('.');
  let node: unknown = value;
  for (let i = parts.length - 1; i >= 0; i--) {
    node = { [parts[i]!]: node };
    const above = parts.slice(0, i).join('.');
    if (LISTS_OF_BLOCKS.has(above)) node = [node];
  }
  return JSON.stringify(node);
}

/** The `unknown key` problems parseConfig reports for a document (type and cross-field problems are not asked about). */
function unknownKeyProblems(text: string): string[] {
  try {
    parseConfig(text);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.flatMap((p) => p.split('\n')).filter((p) => p.includes(': unknown key'));
  }
}

describe("Loki's configuration reference", () => {
  it('lists keys, sorted and without repeats', () => {
    expect(KEYS.length).toBeGreaterThan(2000);
    expect(new Set(KEYS).size).toBe(KEYS.length);
    expect([...KEYS].sort()).toEqual(KEYS);
    expect(KEYS).toEqual(expect.arrayContaining(['ingester.lifecycler.ring.kvstore.store', 'schema_config.configs.index.period', 'storage_config.aws.bucketnames']));
  });

  it('has no key loki-lite calls unknown: each is in the schema or accepted with a warning', () => {
    // A value of the wrong type for a key in the schema is a different problem, and fine here.
    const unknown = KEYS.filter((key) => unknownKeyProblems(settingOnly(key, '1')).length > 0);
    expect(unknown).toEqual([]);
  });

  it('warns once of a key it accepts but does not act on, and still refuses a key Loki does not have', () => {
    const base = 'common: {path_prefix: /tmp/x}\nschema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\n';
    const { warnings } = parseConfig(`${base}ruler: {ring: {kvstore: {consul: {host: "consul:8500"}}}}\n`);
    expect(warnings).toEqual(['config key ruler is accepted but not implemented by loki-lite yet; it has no effect']);
    expect(unknownKeyProblems(settingOnly('ingester.lifecycler_typo', '1'))).toEqual(['ingester.lifecycler_typo: unknown key (not a Loki config key loki-lite knows)']);
  });
});
