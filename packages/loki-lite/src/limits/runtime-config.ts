import { ConfigError, parseYamlMapping, removeKnownUnimplemented, validateConfig } from '@loki-lite/shared';
import { keysOutsideReference } from '../config/key-reference.js';
import { KNOWN_UNIMPLEMENTED } from '../config/known-keys.js';
import { settingsDiffYaml, settingsYaml } from '../config/print.js';
import { type Config, type LimitsConfig, limitsConfigSchema } from '../config/schema.js';
import type { Limits, TenantOverrides } from './limits.js';

/*
 * Loki's runtime config file (pkg/loki/runtime_config.go): `overrides:` maps a tenant id to limits_config
 * keys, each tenant's set over the config's limits_config and validated as limits_config is (the same
 * schema, the same texts). Several files (runtime_config.file is a comma-separated list) are merged from
 * left to right as dskit's runtimeconfig merges them: mappings key by key, any other value replaced.
 */

/**
 * The files to read and how often (ns), as Loki's initRuntimeConfig picks them: runtime_config, or when its
 * file is unset the deprecated limits_config.per_tenant_override_config and _period. No files: no module.
 */
export function runtimeConfigSource(config: Config): { readonly files: string; readonly periodNs: bigint } {
  const { file, period } = config.runtime_config;
  if (file !== '') return { files: file, periodNs: period };
  return { files: config.limits_config.per_tenant_override_config, periodNs: config.limits_config.per_tenant_override_period };
}

/** One runtime config file as read. */
export interface RuntimeConfigFile {
  readonly path: string;
  readonly text: string;
}

export interface RuntimeConfigValues {
  /** Each tenant's overrides: the keys it sets, validated. */
  readonly overrides: ReadonlyMap<string, TenantOverrides>;
  /** Keys loki-lite accepts but does not act on, and skipped empty tenants. */
  readonly warnings: readonly string[];
}

/** A runtime config that cannot be used: the message says what and where, in Loki's words. */
export class RuntimeConfigError extends Error {
  override readonly name = 'RuntimeConfigError';
}

/** The top-level keys of Loki's runtimeConfigValues; its decoder refuses any other. */
const TOP_LEVEL_KEYS = new Set(['overrides', 'configs', 'multi_kv_config']);
/** Per-tenant operational config and the multi KV store's switch: loki-lite has neither (yet). */
const UNIMPLEMENTED_TOP_LEVEL = ['configs', 'multi_kv_config'];

/** The limits_config keys loki-lite accepts but does not act on, relative to limits_config. */
const UNIMPLEMENTED_LIMITS = KNOWN_UNIMPLEMENTED.filter((k) => k.startsWith('limits_config.'));
const UNIMPLEMENTED_LIMIT_KEYS = UNIMPLEMENTED_LIMITS.map((k) => k.slice('limits_config.'.length));

/** The files' overrides, validated against `defaults` (the config's limits_config). Throws RuntimeConfigError. */
export function parseRuntimeConfig(files: readonly RuntimeConfigFile[], defaults: LimitsConfig): RuntimeConfigValues {
  const warnings: string[] = [];
  let merged: Record<string, unknown> = {};
  for (const file of files) merged = mergeRuntimeTrees(merged, readTree(file, warnings));
  const tenants = merged.overrides ?? {};
  if (!isMapping(tenants)) throw new RuntimeConfigError('load file: overrides: must be a mapping of tenant ids to limits');
  const overrides = new Map<string, TenantOverrides>();
  for (const [tenant, raw] of Object.entries(tenants)) {
    if (raw === null || raw === undefined) {
      warnings.push(`skipping empty tenant limit definition (tenant ${tenant})`);
      continue;
    }
    overrides.set(tenant, tenantOverrides(tenant, raw, defaults, warnings));
  }
  return { overrides, warnings };
}

/** One file's mapping: YAML, only Loki's top-level keys, those loki-lite does not act on removed with a warning. */
function readTree(file: RuntimeConfigFile, warnings: string[]): Record<string, unknown> {
  let tree: Record<string, unknown>;
  try {
    tree = parseYamlMapping(file.text, file.path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new RuntimeConfigError(`unmarshal file ${JSON.stringify(file.path)}: ${e.problems.map((p) => p.replace(`${file.path}: `, '')).join('; ')}`);
  }
  const unknown = Object.keys(tree).filter((k) => !TOP_LEVEL_KEYS.has(k));
  if (unknown.length > 0) {
    const fields = unknown.map((k) => `field ${k} not found in type loki.runtimeConfigValues`).join('; ');
    throw new RuntimeConfigError(`unmarshal file ${JSON.stringify(file.path)}: yaml: unmarshal errors: ${fields}`);
  }
  for (const w of removeKnownUnimplemented(tree, UNIMPLEMENTED_TOP_LEVEL, 'loki-lite')) warnings.push(`runtime config ${file.path}: ${w}`);
  return tree;
}

/** The keys one tenant's overrides set, validated by limits_config's schema over the defaults. */
function tenantOverrides(tenant: string, raw: unknown, defaults: LimitsConfig, warnings: string[]): TenantOverrides {
  const invalid = (problems: readonly string[]) => new RuntimeConfigError(`load file: invalid override for tenant ${tenant}: ${problems.join('; ')}`);
  if (!isMapping(raw)) throw invalid(['must be a mapping of limits_config keys']);
  const own = structuredClone(raw);
  // Before the unimplemented keys go: a key under one that Loki does not have is an error, as in limits_config.
  const outsideReference = keysOutsideReference({ limits_config: own }, UNIMPLEMENTED_LIMITS).map((p) => p.replace(/^limits_config\./, ''));
  for (const w of removeKnownUnimplemented(own, UNIMPLEMENTED_LIMIT_KEYS, 'loki-lite')) warnings.push(`overrides of tenant ${tenant}: ${w}`);
  let limits: LimitsConfig;
  try {
    limits = validateConfig(limitsConfigSchema, { ...defaults, ...own }, 'not a Loki config key loki-lite knows', outsideReference);
  } catch (e) {
    if (e instanceof ConfigError) throw invalid(e.problems);
    throw e;
  }
  if (outsideReference.length > 0) throw invalid(outsideReference);
  const set: Record<string, unknown> = {};
  for (const key of Object.keys(own)) set[key] = limits[key as keyof LimitsConfig];
  return Object.freeze(set) as TenantOverrides;
}

/** dskit's merge of runtime config files: mappings merged key by key, any other value replaced by the later file. */
export function mergeRuntimeTrees(base: Record<string, unknown>, over: Record<string, unknown>, path = ''): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const where = path === '' ? key : `${path}.${key}`;
    const before = out[key];
    if (before === undefined || before === null || value === null) out[key] = value;
    else if (isMapping(before) && isMapping(value)) out[key] = mergeRuntimeTrees(before, value, where);
    else if (goType(before) !== goType(value))
      throw new RuntimeConfigError(`conflicting types for ${JSON.stringify(where)}: ${goType(before)} != ${goType(value)}`);
    else out[key] = value;
  }
  return out;
}

/** How Go names the type a YAML value decodes to, for dskit's conflict message. */
function goType(v: unknown): string {
  if (isMapping(v)) return 'map[string]interface {}';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The runtime config in force as YAML, as the /runtime_config handler of dskit-based servers prints it:
 * every tenant of `overrides:` with all its limits, or with `diff` only those that differ from limits_config.
 */
export function runtimeConfigYaml(limits: Limits, mode: 'all' | 'diff'): string {
  const tenants = [...limits.allOverrides().keys()].sort();
  const actual = { overrides: Object.fromEntries(tenants.map((t) => [t, limits.forTenant(t)])) };
  if (mode === 'all') return settingsYaml(actual);
  return settingsDiffYaml(actual, { overrides: Object.fromEntries(tenants.map((t) => [t, limits.defaults()])) });
}
