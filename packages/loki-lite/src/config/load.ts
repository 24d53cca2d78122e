import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, deepFreeze, expandEnv, parseYamlMapping, removeKnownUnimplemented, validateConfig } from '@loki-lite/shared';
import type { Flags } from './flags.js';
import { keysOutsideReference } from './key-reference.js';
import { applyCommonRing } from './common-ring.js';
import { KNOWN_UNIMPLEMENTED } from './known-keys.js';
import { type Config, configSchema } from './schema.js';

export interface LoadedConfig {
  config: Config;
  warnings: string[];
  /** The file that was read, or `embedded default`. */
  source: string;
}

/** The embedded default: one process, a local folder store under ./data, no auth (tenant `fake`). */
export const EMBEDDED_DEFAULT_FILE = fileURLToPath(new URL('../../config/local.yaml', import.meta.url));

export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const source = flags.configFile ?? EMBEDDED_DEFAULT_FILE;
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (e) {
    throw new ConfigError([`cannot read config file ${source}: ${(e as Error).message}`]);
  }
  const { config, warnings } = parseConfig(flags.expandEnv ? expandEnv(text, env) : text, flags);
  return { config, warnings, source: flags.configFile ?? 'embedded default' };
}

/** Parses and validates config text; applies the flag overrides. All problems are reported together. */
export function parseConfig(text: string, flags: Partial<Flags> = {}): { config: Config; warnings: string[] } {
  const tree = parseYamlMapping(text, flags.configFile);
  // before the sections are removed: a key under one that Loki does not have is an error, not a warning
  const outsideReference = keysOutsideReference(tree, KNOWN_UNIMPLEMENTED);
  const warnings = removeKnownUnimplemented(tree, KNOWN_UNIMPLEMENTED, 'loki-lite');
  applyFlags(tree, flags);

  const config = validateConfig(configSchema, tree, 'not a Loki config key loki-lite knows', outsideReference);
  const problems = [...outsideReference, ...resolveDerived(config, tree)];
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: deepFreeze(config), warnings };
}

/** Loki's defaults alone: the configuration an empty file gives, before settings derived from others. */
export function defaultConfig(): Config {
  return validateConfig(configSchema, {}, 'not a Loki config key loki-lite knows');
}

function applyFlags(tree: Record<string, unknown>, flags: Partial<Flags>): void {
  // The mapping at `path` in the tree, made when absent: a flag's value goes in as if the file had it.
  const section = (...path: string[]): Record<string, unknown> => {
    let node = tree;
    for (const key of path) {
      const v = node[key];
      node = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : (node[key] = {});
    }
    return node;
  };
  if (flags.target !== undefined) tree.target = flags.target;
  if (flags.httpListenPort !== undefined) section('server').http_listen_port = flags.httpListenPort;
  if (flags.httpListenAddress !== undefined) section('server').http_listen_address = flags.httpListenAddress;
  if (flags.logLevel !== undefined) section('server').log_level = flags.logLevel;
  if (flags.logFormat !== undefined) section('server').log_format = flags.logFormat;
  if (flags.ingesterAvailabilityZone !== undefined) section('ingester', 'lifecycler').availability_zone = flags.ingesterAvailabilityZone;
}

/** Loki's -target values that loki-lite has modules for (modules/targets.ts; several run only within `all` yet). */
const TARGETS = ['all', 'write', 'read', 'backend', 'distributor', 'ingester', 'querier', 'query-frontend', 'query-scheduler', 'index-gateway', 'compactor'];

/** Loki's targets loki-lite has no module for yet. */
const NOT_IMPLEMENTED_TARGETS = ['ruler', 'pattern-ingester'];

/**
 * Each name of a comma-separated -target: Loki's text (dskit's modules manager) for a name that is no module,
 * and "not implemented yet" for one of Loki's modules loki-lite does not have.
 */
function targetProblems(target: string): string[] {
  const problems: string[] = [];
  for (const name of target.split(',').map((t) => t.trim())) {
    if (NOT_IMPLEMENTED_TARGETS.includes(name)) {
      problems.push(`target: ${name} is not implemented yet (loki-lite's targets: ${TARGETS.join(', ')})`);
    } else if (!TARGETS.includes(name)) {
      problems.push(`target: unrecognised module name: ${name} (loki-lite's targets: ${TARGETS.join(', ')})`);
    }
  }
  return problems;
}

/**
 * Cross-field rules and defaults that depend on other keys (paths under common.path_prefix, the store, the
 * rings). `tree` is the YAML as written, for Loki's rules that let a written key win over a derived value.
 */
function resolveDerived(config: Config, tree: Record<string, unknown>): string[] {
  const problems = targetProblems(config.target);
  applyCommonRing(config, tree, defaultConfig());
  // Loki's querier worker Config.Validate
  if (config.frontend_worker.frontend_address !== '' && config.frontend_worker.scheduler_address !== '') {
    problems.push('frontend_worker: frontend address and scheduler address are mutually exclusive, please use only one');
  }
  const prefix = config.common.path_prefix;
  if (config.ingester.wal.dir === '') config.ingester.wal.dir = prefix ? path.join(prefix, 'wal') : 'wal';
  // Loki's applyPathPrefixDefaults: a working directory left at its default moves under the path prefix.
  if (prefix && config.compactor.working_directory === COMPACTOR_DEFAULT_WORKING_DIRECTORY) {
    config.compactor.working_directory = path.join(prefix, 'compactor');
  }
  const configs = config.schema_config.configs.sort((a, b) => (a.from < b.from ? -1 : 1));
  if (configs.length === 0) problems.push('schema_config.configs: at least one period config is required');
  const stores = new Set(configs.map((c) => (c.object_store === 'aws' ? 's3' : c.object_store)));
  if (stores.size > 1) problems.push(`schema_config.configs: periods with different object stores (${[...stores].join(', ')}) are not supported yet`);
  const store = [...stores][0];
  if (store === 'filesystem') {
    const fs = (config.storage_config.filesystem ??= { directory: '' });
    if (fs.directory === '') fs.directory = config.common.storage.filesystem?.chunks_directory || prefix;
    if (fs.directory === '') problems.push('storage_config.filesystem.directory: required when object_store is filesystem (or set common.path_prefix)');
  }
  if (store === 's3') {
    const s3 = (config.storage_config.aws ??= config.common.storage.s3);
    if (!s3 || s3.bucketnames === '') problems.push('storage_config.aws.bucketnames: required when object_store is s3');
    else if (s3.bucketnames.includes(',')) problems.push('storage_config.aws.bucketnames: several buckets are not supported yet; name one');
  }
  problems.push(...resolveCompactor(config));
  if (config.ingester.chunk_block_size <= 0) problems.push('ingester.chunk_block_size: must be positive');
  if (config.ingester.chunk_target_size <= 0) problems.push('ingester.chunk_target_size: must be positive');
  return problems;
}

const COMPACTOR_DEFAULT_WORKING_DIRECTORY = '/var/loki/compactor';

/**
 * Loki's compactor Config.Validate (3.x), with its texts as `invalid compactor config: ...` as Loki's start
 * reports them, and its adjustment of the retention interval: 0 means the compaction interval, and one
 * equal to the compaction interval gets min(10m, interval/2) more, so retention and compaction do not
 * start together (15m with the defaults).
 */
function resolveCompactor(config: Config): string[] {
  const c = config.compactor;
  const invalid = (text: string) => [`invalid compactor config: ${text}`];
  if (c.max_compaction_parallelism < 1) return invalid('max compaction parallelism must be >= 1');
  if (!c.retention_enabled) return [];
  if (c.delete_request_store === '') return invalid('compactor.delete-request-store should be configured when retention is enabled');
  if (c.apply_retention_interval === 0n) c.apply_retention_interval = c.compaction_interval;
  if (c.apply_retention_interval === c.compaction_interval) {
    const jitter = c.apply_retention_interval / 2n;
    c.apply_retention_interval += jitter < TEN_MINUTES ? jitter : TEN_MINUTES;
  }
  return [];
}

const TEN_MINUTES = 600n * 1_000_000_000n;
