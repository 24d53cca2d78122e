import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError, deepFreeze, expandEnv, parseYamlMapping, removeKnownUnimplemented, validateConfig } from '@loki-lite/shared';
import { checkRelabelConfig, type RelabelConfig } from '../relabel/relabel.js';
import { compilePipeline } from '../pipeline/pipeline.js';
import type { AgentFlags } from './flags.js';
import { type Config, configSchema } from './schema.js';

/** Promtail keys the agent accepts (so a Promtail config loads) but does not act on yet. */
export const KNOWN_UNIMPLEMENTED = [
  'server.http_server_read_timeout',
  'server.http_server_write_timeout',
  'server.http_server_idle_timeout',
  'server.grpc_server_max_recv_msg_size',
  'server.grpc_server_max_send_msg_size',
  'server.register_instrumentation',
  'server.log_format',
  'server.health_check_target',
  'server.enable_runtime_reload',
  'server.profiling_enabled',
  'clients.proxy_url',
  'clients.follow_redirects',
  'clients.enable_http2',
  'clients.oauth2',
  'scrape_configs.file_sd_configs',
  'scrape_configs.docker_sd_configs',
  'scrape_configs.consul_sd_configs',
  'scrape_configs.consulagent_sd_configs',
  'scrape_configs.journal',
  'scrape_configs.syslog',
  'scrape_configs.loki_push_api',
  'scrape_configs.windows_events',
  'scrape_configs.gcplog',
  'scrape_configs.kafka',
  'scrape_configs.gelf',
  'scrape_configs.cloudflare',
  'scrape_configs.heroku_drain',
  'scrape_configs.encoding',
  'scrape_configs.decompression',
  'scrape_configs.limits_config',
  'limits_config',
  'tracing',
  'options',
  'file_watch_config',
  'global',
  'wal',
  'target_config.stdin',
];

export interface LoadedConfig {
  readonly config: Config;
  readonly warnings: string[];
  /** The node this agent runs on: agent.node_name, else $HOSTNAME (a DaemonSet sets it to the node), else the host name. */
  readonly nodeName: string;
}

export function loadConfig(flags: Omit<AgentFlags, 'help' | 'version'>, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  if (flags.configFile === undefined) throw new ConfigError(['-config.file: required (the agent has no embedded default; see packages/agent/config/)']);
  let text: string;
  try {
    text = readFileSync(flags.configFile, 'utf8');
  } catch (e) {
    throw new ConfigError([`cannot read config file ${flags.configFile}: ${(e as Error).message}`]);
  }
  const loaded = parseConfig(flags.expandEnv ? expandEnv(text, env) : text, flags);
  return { ...loaded, nodeName: loaded.config.agent.node_name || env.HOSTNAME || hostname() };
}

/** Parses and validates a config; every problem is reported together, each naming its key. */
export function parseConfig(text: string, flags: Partial<AgentFlags> = {}): LoadedConfig {
  const tree = parseYamlMapping(text, flags.configFile);
  const warnings = removeKnownUnimplemented(tree, KNOWN_UNIMPLEMENTED, 'the agent');
  applyFlags(tree, flags);
  const config = validateConfig(configSchema, tree, 'not a Promtail config key the agent knows');
  const problems = [...checkClients(config), ...checkScrapeConfigs(config)];
  if (problems.length > 0) throw new ConfigError(problems);
  for (const [i, c] of config.clients.entries()) {
    if (c.backoff_config.max_retries > 0 && c.backoff_config.max_retries !== 10) {
      warnings.push(
        `clients[${i}].backoff_config.max_retries: the agent never gives up on a batch it may still deliver (it would lose lines); retries continue at max_period`,
      );
    }
  }
  return { config: deepFreeze(config), warnings, nodeName: config.agent.node_name || hostname() };
}

function applyFlags(tree: Record<string, unknown>, flags: Partial<AgentFlags>): void {
  const section = (name: string): Record<string, unknown> => {
    const v = tree[name];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    return (tree[name] = {});
  };
  if (flags.httpListenPort !== undefined) section('server').http_listen_port = flags.httpListenPort;
  if (flags.logLevel !== undefined) section('server').log_level = flags.logLevel;
  if (flags.positionsFile !== undefined) section('positions').filename = flags.positionsFile;
  if (flags.clientUrl !== undefined) {
    const clients = Array.isArray(tree.clients) ? (tree.clients as Array<Record<string, unknown>>) : [];
    if (clients.length === 0) clients.push({});
    for (const c of clients) c.url = flags.clientUrl;
    tree.clients = clients;
  }
  if (flags.tenantId !== undefined) for (const c of (tree.clients as Array<Record<string, unknown>> | undefined) ?? []) c.tenant_id = flags.tenantId;
}

function checkClients(config: Config): string[] {
  const problems: string[] = [];
  if (config.clients.length === 0) problems.push('clients: at least one client (a Loki push URL) is required');
  config.clients.forEach((c, i) => {
    const key = `clients[${i}]`;
    const urlProblem = checkPushUrl(c.url);
    if (urlProblem) problems.push(`${key}.url: ${urlProblem}`);
    const auth = c.basic_auth;
    if (auth?.password && auth.password_file) problems.push(`${key}.basic_auth: at most one of password and password_file may be set`);
    if (auth?.username && auth.username_file) problems.push(`${key}.basic_auth: at most one of username and username_file may be set`);
    if (c.bearer_token && c.bearer_token_file) problems.push(`${key}: at most one of bearer_token and bearer_token_file may be set`);
    if (auth && (c.bearer_token || c.bearer_token_file)) problems.push(`${key}: at most one of basic_auth and bearer_token may be set`);
    for (const [name, file] of [
      ['basic_auth.password_file', auth?.password_file],
      ['basic_auth.username_file', auth?.username_file],
      ['bearer_token_file', c.bearer_token_file],
      ['tls_config.ca_file', c.tls_config.ca_file],
      ['tls_config.cert_file', c.tls_config.cert_file],
      ['tls_config.key_file', c.tls_config.key_file],
    ] as const) {
      if (!file) continue;
      try {
        readFileSync(file);
      } catch (e) {
        problems.push(`${key}.${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (c.batchsize <= 0) problems.push(`${key}.batchsize: must be positive`);
    if (c.backoff_config.min_period <= 0n || c.backoff_config.max_period < c.backoff_config.min_period) {
      problems.push(`${key}.backoff_config: min_period must be positive and at most max_period`);
    }
  });
  return problems;
}

/** A push URL needs a scheme and a path: a bare host name is the commonest mistake (Alloy examples use one). */
export function checkPushUrl(url: string): string | undefined {
  const example = (host: string) => `write http://${host}/loki/api/v1/push (or https://)`;
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url)) {
    const host = url.replace(/\/.*$/, '') || 'loki:3100';
    return `${JSON.stringify(url)} has no scheme; ${example(host)}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a valid URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `${JSON.stringify(url)}: the scheme must be http or https`;
  if (parsed.pathname === '/' || parsed.pathname === '') return `${JSON.stringify(url)} has no path; ${example(parsed.host)}`;
  return undefined;
}

function checkScrapeConfigs(config: Config): string[] {
  const problems: string[] = [];
  const jobs = new Set<string>();
  config.scrape_configs.forEach((sc, i) => {
    const key = `scrape_configs[${i}]`;
    if (jobs.has(sc.job_name)) problems.push(`${key}.job_name: ${JSON.stringify(sc.job_name)} is used twice`);
    jobs.add(sc.job_name);
    if (sc.static_configs.length === 0 && sc.kubernetes_sd_configs.length === 0) {
      problems.push(`${key}: no static_configs or kubernetes_sd_configs, so it finds no files`);
    }
    sc.relabel_configs.forEach((rc, j) => {
      for (const p of checkRelabelConfig(rc as RelabelConfig)) problems.push(`${key}.relabel_configs[${j}]: ${p}`);
    });
    try {
      compilePipeline(sc.pipeline_stages);
    } catch (e) {
      problems.push(`${key}.pipeline_stages: ${(e as Error).message}`);
    }
  });
  return problems;
}
