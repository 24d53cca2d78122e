import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { compileRules, expand, relabel, type RelabelConfig } from './relabel.js';

const rule = (r: Partial<RelabelConfig>): RelabelConfig => ({
  source_labels: [],
  separator: ';',
  target_label: undefined,
  regex: '(.*)',
  modulus: undefined,
  replacement: '$1',
  action: 'replace',
  ...r,
});

const apply = (labels: Record<string, string>, ...rules: Partial<RelabelConfig>[]) => {
  const out = relabel(new Map(Object.entries(labels)), compileRules(rules.map(rule)));
  return out && Object.fromEntries(out);
};

describe('relabel, as Prometheus does it', () => {
  it.each([
    [
      'replace joins sources with the separator',
      { a: 'x', b: 'y' },
      { source_labels: ['a', 'b'], separator: '/', target_label: 'c' },
      { a: 'x', b: 'y', c: 'x/y' },
    ],
    [
      'replace uses groups in target and replacement',
      { a: 'foo-bar' },
      { source_labels: ['a'], regex: '(\\w+)-(\\w+)', target_label: 'l_$1', replacement: '$2' },
      { a: 'foo-bar', l_foo: 'bar' },
    ],
    ['replace does nothing when the (anchored) regex does not match', { a: 'xfoo' }, { source_labels: ['a'], regex: 'foo', target_label: 'b' }, { a: 'xfoo' }],
    ['replace with an empty result deletes the target', { a: '', b: 'old' }, { source_labels: ['a'], target_label: 'b' }, { a: '' }],
    [
      'replace with ${name} and a missing source',
      { a: 'v' },
      { source_labels: ['a', 'missing'], regex: '(?P<first>[^;]*);(.*)', target_label: 'b', replacement: '${first}!' },
      { a: 'v', b: 'v!' },
    ],
    ['keep keeps a match', { a: 'yes' }, { source_labels: ['a'], regex: 'y.s', action: 'keep' }, { a: 'yes' }],
    ['keep drops a non-match', { a: 'no' }, { source_labels: ['a'], regex: 'y.s', action: 'keep' }, undefined],
    ['drop drops a match', { a: 'yes' }, { source_labels: ['a'], regex: 'yes', action: 'drop' }, undefined],
    ['drop keeps a non-match', { a: 'no' }, { source_labels: ['a'], regex: 'yes', action: 'drop' }, { a: 'no' }],
    ['keepequal keeps equal values', { a: '1', b: '1' }, { source_labels: ['a'], target_label: 'b', action: 'keepequal' }, { a: '1', b: '1' }],
    ['keepequal drops different values', { a: '1', b: '2' }, { source_labels: ['a'], target_label: 'b', action: 'keepequal' }, undefined],
    ['dropequal drops equal values', { a: '1', b: '1' }, { source_labels: ['a'], target_label: 'b', action: 'dropequal' }, undefined],
    ['dropequal keeps different values', { a: '1', b: '2' }, { source_labels: ['a'], target_label: 'b', action: 'dropequal' }, { a: '1', b: '2' }],
    // The value Prometheus' relabel tests expect for "baz" modulo 1000.
    ['hashmod', { c: 'baz' }, { source_labels: ['c'], target_label: 'd', modulus: 1000, action: 'hashmod' }, { c: 'baz', d: '976' }],
    [
      'labelmap copies matching names',
      { __meta_kubernetes_pod_label_app: 'web', other: 'x' },
      { regex: '__meta_kubernetes_pod_label_(.+)', action: 'labelmap' },
      { __meta_kubernetes_pod_label_app: 'web', app: 'web', other: 'x' },
    ],
    ['labeldrop removes matching names', { tmp_a: '1', keep: '2' }, { regex: 'tmp_.*', action: 'labeldrop' }, { keep: '2' }],
    ['labelkeep removes the others', { tmp_a: '1', keep: '2' }, { regex: 'keep', action: 'labelkeep' }, { keep: '2' }],
    ['lowercase', { a: 'MiXeD' }, { source_labels: ['a'], target_label: 'b', action: 'lowercase' }, { a: 'MiXeD', b: 'mixed' }],
    ['uppercase', { a: 'MiXeD' }, { source_labels: ['a'], target_label: 'b', action: 'uppercase' }, { a: 'MiXeD', b: 'MIXED' }],
  ] as const)('%s', (_name, labels, r, want) => {
    expect(apply(labels, r as Partial<RelabelConfig>)).toEqual(want);
  });

  it("expands like Go's regexp.Expand: $1x is a group named 1x, $$ a dollar", () => {
    const m = /(?<n>a)(b)/.exec('ab')!;
    expect(expand('$1x|${1}x|$2|$$|$n|${n}', m)).toBe('|ax|b|$|a|a');
  });

  it("turns the seed's pod metadata into the seed's labels and path", () => {
    const text = readFileSync(new URL('../../config/agent.yaml', import.meta.url), 'utf8').replace(/\$\{[^}]*\}/g, 'http://loki:3100/loki/api/v1/push');
    const { config } = parseConfig(text);
    const rules = compileRules(config.scrape_configs[0]!.relabel_configs as RelabelConfig[]);
    const out = relabel(
      new Map([
        ['__meta_kubernetes_namespace', 'training'],
        ['__meta_kubernetes_pod_name', 'llama-0'],
        ['__meta_kubernetes_pod_uid', '5b1c-77'],
        ['__meta_kubernetes_pod_container_name', 'trainer'],
        ['__meta_kubernetes_pod_label_app_kubernetes_io_name', 'llama'],
        ['__meta_kubernetes_pod_container_id', 'containerd://abc123'],
      ]),
      rules,
    )!;
    expect(Object.fromEntries([...out].filter(([k]) => !k.startsWith('__meta')))).toEqual({
      namespace: 'training',
      pod: 'llama-0',
      container: 'trainer',
      app: 'llama',
      job: 'training/trainer',
      __path__: '/var/log/pods/*5b1c-77/trainer/*.log',
      container_runtime: 'containerd',
    });
  });
});
