import { describe, expect, it } from 'vitest';
import { ConfigError } from '@loki-lite/shared';
import { parseConfig } from './load.js';
import { LOKI_CONFIG_KEYS as KEYS } from './loki-config-keys.js';
import { configProblems } from '../testing/config-problems.js';

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
    expect(KEYS).toEqual(
      expect.arrayContaining(['ingester.lifecycler.ring.kvstore.store', 'schema_config.configs.index.period', 'storage_config.aws.bucketnames']),
    );
  });

  it('has no key loki-lite calls unknown: each is in the schema or accepted with a warning', () => {
    // A value of the wrong type for a key in the schema is a different problem, and fine here.
    const unknown = KEYS.filter((key) => unknownKeyProblems(settingOnly(key, '1')).length > 0);
    expect(unknown).toEqual([]);
  });

  it('warns once of a key it accepts but does not act on, and still refuses a key Loki does not have', () => {
    const base =
      'common: {path_prefix: /tmp/x}\nschema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\n';
    const { warnings } = parseConfig(`${base}ruler: {ring: {kvstore: {consul: {host: "consul:8500"}}}}\n`);
    expect(warnings).toEqual(['config key ruler is accepted but not implemented by loki-lite yet; it has no effect']);
    expect(unknownKeyProblems(settingOnly('ingester.lifecycler_typo', '1'))).toEqual([
      'ingester.lifecycler_typo: unknown key (not a Loki config key loki-lite knows)',
    ]);
  });
});

describe('keys under a section loki-lite accepts without acting on it', () => {
  const base =
    'common: {path_prefix: /tmp/x}\nschema_config: {configs: [{from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: i_, period: 24h}}]}\n';
  const problems = configProblems;
  const refused = (key: string, suggestion = '') => `${key}: unknown key (not a Loki config key; Loki refuses it too${suggestion})`;

  it('refuses a misspelt key, as Loki does', () => {
    expect(problems(`${base}ruler: {alertmanger_url: "http://alertmanager:9093"}\n`)).toEqual([refused('ruler.alertmanger_url')]);
  });

  it("refuses a key in the wrong place (the seed guide's ruler.storage.alertmanager_url) and names the right one", () => {
    expect(problems(`${base}ruler: {storage: {type: s3, alertmanager_url: "http://alertmanager:9093"}}\n`)).toEqual([
      refused('ruler.storage.alertmanager_url', '; did you mean ruler.alertmanager_url?'),
    ]);
    expect(problems(`${base}ruler: {bucketnames: rules}\n`)).toEqual([
      refused('ruler.bucketnames', '; did you mean ruler.storage.cos.bucketnames or ruler.storage.s3.bucketnames?'),
    ]);
    // many places: the shallowest are named, the others counted
    expect(problems(`${base}ruler: {tls_ca_path: /ca.pem}\n`)).toEqual([
      refused(
        'ruler.tls_ca_path',
        '; did you mean ruler.alertmanager_client.tls_ca_path, ruler.ruler_client.tls_ca_path or ruler.evaluation.query_frontend.tls_ca_path (or 2 other places)?',
      ),
    ]);
  });

  // tracing.profiling_enabled: Loki reads it, but its reference hides it
  it('accepts, with the one warning, the keys of a section that Loki has, however deep, and what lies in their values', () => {
    const { warnings } = parseConfig(`${base}memberlist: {join_members: [loki-memberlist], gossip_nodes: 3}
ruler:
  storage: {type: s3, s3: {bucketnames: rules, region: eu-west-2}}
  alertmanager_url: "http://alertmanager:9093"
  alert_relabel_configs: [{source_labels: [a], action: drop}]
server: {grpc_tls_config: {cert_file: /tls.crt}}
limits_config: {ruler_remote_write_headers: {X-Scope-OrgID: team-a}}
tracing: {profiling_enabled: false}
`);
    expect(warnings.map((w) => w.split(' ')[2])).toEqual([
      'ruler',
      'tracing',
      'server.grpc_tls_config',
      // memberlist.join_members is in the schema (issue 16); the gossip tuning is not
      'memberlist.gossip_nodes',
      'limits_config.ruler_remote_write_headers',
    ]);
  });

  it('names a key under a list of blocks with its index, and checks it without', () => {
    expect(problems(`${base.replace('period: 24h}', 'period: 24h}, chunks: {prefix: c_, perod: 24h}')}`)).toEqual([
      refused('schema_config.configs.0.chunks.perod'),
    ]);
  });

  it('accepts anything under a key of an earlier Loki release, which the reference does not have', () => {
    const { warnings } = parseConfig(`${base}table_manager: {retention_deletes_enabled: true, anything: {at: [{all: 1}]}}\n`);
    expect(warnings).toEqual(['config key table_manager is accepted but not implemented by loki-lite yet; it has no effect']);
  });

  it('reports such keys with the problems the schema and the cross-field rules find', () => {
    expect(problems(`${base}ingester: {surprise: 1}\ntracing: {enabld: true}\n`)).toEqual([
      refused('tracing.enabld'),
      'ingester.surprise: unknown key (not a Loki config key loki-lite knows)',
    ]);
    expect(problems(`${base}target: everything\ntracing: {enabld: true}\n`)).toEqual([
      refused('tracing.enabld'),
      expect.stringMatching(/^target: unrecognised module name: everything /),
    ]);
  });
});
