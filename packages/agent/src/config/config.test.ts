import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConfigError, expandEnv } from '@loki-lite/shared';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildTarget, scrapeJob } from '../discovery/targets.js';
import { compilePipeline } from '../pipeline/pipeline.js';
import { agentUsage, parseAgentFlags } from './flags.js';
import { checkPushUrl, loadConfig, parseConfig } from './load.js';

function problems(text: string): readonly string[] {
  try {
    parseConfig(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const minimal = `
clients: [{url: http://loki:3100/loki/api/v1/push}]
scrape_configs: [{job_name: x, static_configs: [{labels: {__path__: /var/log/*.log}}]}]
`;

describe('agent config', () => {
  it("applies Promtail's defaults", () => {
    const { config } = parseConfig(minimal);
    expect(config.positions).toMatchObject({ filename: '/var/log/positions.yaml', sync_period: 10_000_000_000n });
    expect(config.clients[0]).toMatchObject({ batchwait: 1_000_000_000n, batchsize: 1_048_576, timeout: 10_000_000_000n });
    expect(config.clients[0]!.backoff_config).toEqual({ min_period: 500_000_000n, max_period: 300_000_000_000n, max_retries: 10 });
    expect(config.scrape_configs[0]!.relabel_configs).toEqual([]);
  });

  it("loads the config the Promtail Helm chart renders, unchanged, and its rules give Promtail's labels", () => {
    const { config, warnings } = parseConfig(readFileSync(new URL('./testdata/promtail-helm.yaml', import.meta.url), 'utf8'));
    expect(warnings).toEqual([
      'config key server.log_format is accepted but not implemented by the agent yet; it has no effect',
      'config key limits_config is accepted but not implemented by the agent yet; it has no effect',
      'config key tracing is accepted but not implemented by the agent yet; it has no effect',
    ]);
    const sc = config.scrape_configs[0]!;
    const target = buildTarget(
      scrapeJob(sc, compilePipeline(sc.pipeline_stages)),
      new Map([
        ['__meta_kubernetes_namespace', 'ml'],
        ['__meta_kubernetes_pod_name', 'trainer-7d9f8c6b5d-x2x9k'],
        ['__meta_kubernetes_pod_uid', 'abc'],
        ['__meta_kubernetes_pod_container_name', 'main'],
        ['__meta_kubernetes_pod_controller_name', 'trainer-7d9f8c6b5d'],
        ['__meta_kubernetes_pod_node_name', 'node-1'],
      ]),
      'kubernetes',
      'node-1',
    )!;
    expect(Object.fromEntries(target.labels)).toEqual({
      app: 'trainer',
      namespace: 'ml',
      job: 'ml/trainer',
      pod: 'trainer-7d9f8c6b5d-x2x9k',
      container: 'main',
      node_name: 'node-1',
    });
    expect(target.pathGlob).toBe('/var/log/pods/*abc/main/*.log');
  });

  it('loads the default config the package ships (the seed pipeline) with its environment expanded', () => {
    const file = new URL('../../config/agent.yaml', import.meta.url).pathname;
    const { config, nodeName } = loadConfig({ configFile: file, expandEnv: true, dryRun: false }, { HOSTNAME: 'ip-10-0-0-1', CLUSTER_NAME: 'c1' });
    expect(nodeName).toBe('ip-10-0-0-1');
    expect(config.clients[0]!.url).toBe('http://loki-gateway.loki.svc.cluster.local/loki/api/v1/push');
    expect(config.scrape_configs[0]!.pipeline_stages).toEqual([{ cri: {} }, { static_labels: { cluster: 'c1' } }]);
  });

  it('reports every problem at once, each with its key', () => {
    expect(
      problems(`
clients: [{url: loki-gateway.loki.svc.cluster.local, batchsize: 0, basic_auth: {password: a, password_file: /nonexistent}}]
positions: {filenam: x}
scrape_configs:
  - job_name: a
    static_configs: [{labels: {__path__: /x}}]
    relabel_configs: [{action: hashmod, source_labels: [a]}, {action: replace, regex: "a(?=b)", target_label: x}, {action: bogus}]
    pipeline_stages: [{cri: {}}, {multiline: {firstline: x}}]
`),
    ).toEqual([
      'positions.filenam: unknown key (not a Promtail config key the agent knows)',
      'scrape_configs.0.relabel_configs.2.action: Invalid option: expected one of "replace"|"keep"|"drop"|"keepequal"|"dropequal"|"hashmod"|"labelmap"|"labeldrop"|"labelkeep"|"lowercase"|"uppercase"',
    ]);
    expect(
      problems(`
clients: [{url: loki-gateway.loki.svc.cluster.local, batchsize: 0, basic_auth: {password: a, password_file: /nonexistent}}]
scrape_configs:
  - job_name: a
    static_configs: [{labels: {__path__: /x}}]
    relabel_configs: [{action: hashmod, source_labels: [a]}, {action: replace, regex: "a(?=b)", target_label: x}]
    pipeline_stages: [{cri: {}}, {multiline: {firstline: x}}]
  - job_name: a
`),
    ).toEqual([
      'clients[0].url: "loki-gateway.loki.svc.cluster.local" has no scheme; write http://loki-gateway.loki.svc.cluster.local/loki/api/v1/push (or https://)',
      'clients[0].basic_auth: at most one of password and password_file may be set',
      'clients[0].basic_auth.password_file: cannot read /nonexistent: ENOENT',
      'clients[0].batchsize: must be positive',
      "scrape_configs[0].relabel_configs[0]: relabel configuration for hashmod action requires 'target_label' value",
      'scrape_configs[0].relabel_configs[0]: relabel configuration for hashmod requires non-zero modulus',
      'scrape_configs[0].relabel_configs[1]: invalid regex "a(?=b)": error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
      'scrape_configs[0].pipeline_stages: stage 1: "multiline" is not a pipeline stage the agent supports (supported: cri, docker, static_labels, labeldrop, labelallow, labels, structured_metadata, json, logfmt, regex, timestamp, output, drop)',
      'scrape_configs[1].job_name: "a" is used twice',
      'scrape_configs[1]: no static_configs or kubernetes_sd_configs, so it finds no files',
    ]);
  });

  it.each([
    ['http://loki:3100', '"http://loki:3100" has no path; write http://loki:3100/loki/api/v1/push (or https://)'],
    ['ftp://loki/x', '"ftp://loki/x": the scheme must be http or https'],
    ['https://loki.example.com/loki/api/v1/push', undefined],
  ])('push URL %s', (url, want) => {
    expect(checkPushUrl(url)).toBe(want);
  });

  it("takes Promtail's flags", () => {
    expect(parseAgentFlags(['-config.file=/a.yaml', '-config.expand-env', '-client.url', 'http://x/loki/api/v1/push', '-check-syntax'])).toMatchObject({
      configFile: '/a.yaml',
      expandEnv: true,
      clientUrl: 'http://x/loki/api/v1/push',
      dryRun: true,
    });
    expect(() => parseAgentFlags(['-nope=1'])).toThrow('flag provided but not defined: -nope');
  });

  it('takes -help, -h, --help and -version, and -help lists every flag', () => {
    for (const help of ['-help', '-h', '--help']) expect(parseAgentFlags(['-config.file=/a.yaml', help])).toMatchObject({ help: true });
    expect(parseAgentFlags(['-version'])).toMatchObject({ version: true, help: false });
    const text = agentUsage();
    for (const flag of [
      'config.file string',
      'config.expand-env',
      'dry-run',
      'check-syntax',
      'server.http-listen-port int',
      'log.level string',
      'positions.file string',
      'client.url string',
      'client.tenant-id string',
      'version',
    ]) {
      expect(text).toContain(`\n  -${flag}\n    \t`);
    }
  });
});

describe('the Helm chart', () => {
  it("ships a config that loads as an agent config and expresses the seed's pipeline like the package default", () => {
    const secrets = mkdtempSync(`${tmpdir()}/agent-secrets-`);
    writeFileSync(`${secrets}/username`, 'canary\n');
    writeFileSync(`${secrets}/password`, 's3cret\n');
    const values = parse(readFileSync(new URL('../../../../deploy/helm/loki-lite-agent/values.yaml', import.meta.url), 'utf8')) as { config: string };
    const env = { LOKI_PUSH_URL: 'http://loki-gateway.loki.svc.cluster.local/loki/api/v1/push', LOKI_TENANT_ID: '', CLUSTER_NAME: 'training-on-eks' };
    const chart = parseConfig(expandEnv(values.config.replaceAll('/etc/loki-lite-agent/secrets', secrets), env)).config;
    const packaged = parseConfig(expandEnv(readFileSync(new URL('../../config/agent.yaml', import.meta.url), 'utf8'), env)).config;
    expect(chart.scrape_configs).toEqual(packaged.scrape_configs);
    expect(chart.clients[0]!.url).toBe(packaged.clients[0]!.url);
    expect(chart.clients[0]!.basic_auth).toMatchObject({ username_file: `${secrets}/username`, password_file: `${secrets}/password` });
  });
});
