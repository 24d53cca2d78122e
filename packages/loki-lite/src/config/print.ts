import { formatGoDuration, formatRFC3339 } from '@loki-lite/shared';
import { stringify } from 'yaml';
import type { Config } from './schema.js';

/*
 * The configuration in effect as YAML, as Loki prints it for -print-config-stderr: every key, defaults
 * included, durations as Go writes them, secrets masked.
 */

/** Keys whose values are secrets: printed as Loki prints a flagext.Secret. */
const SECRET_KEY = /secret|password|session_token/;
const MASK = '********';

export function configYaml(config: Config): string {
  return settingsYaml(config);
}

/** Only what `config` sets differently from `defaults` (Loki's /config?mode=diff): whole lists, changed leaves. */
export function configDiffYaml(config: Config, defaults: Config): string {
  return settingsDiffYaml(config, defaults);
}

/** Any tree of settings (a part of the config, the runtime overrides) printed as configYaml prints the config. */
export function settingsYaml(settings: object): string {
  return yaml(plain(settings, ''));
}

/** What `settings` has differently from `defaults`, printed as configDiffYaml prints it. */
export function settingsDiffYaml(settings: object, defaults: object): string {
  return yaml(diff(plain(settings, ''), plain(defaults, '')) ?? {});
}

const yaml = (tree: unknown) => stringify(tree, { lineWidth: 0 });

function diff(actual: unknown, dflt: unknown): unknown {
  if (isMapping(actual) && isMapping(dflt)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(actual)) {
      const d = diff(v, dflt[k]);
      if (d !== undefined) out[k] = d;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return JSON.stringify(actual) === JSON.stringify(dflt) ? undefined : actual;
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The config tree with bigints made readable: schema period starts as dates, every other one a duration. */
function plain(v: unknown, key: string): unknown {
  if (typeof v === 'bigint') return key === 'from' ? formatRFC3339(v).slice(0, 10) : formatGoDuration(v);
  if (Array.isArray(v)) return v.map((x) => plain(x, key));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) && typeof x === 'string' && x !== '' ? MASK : plain(x, k);
  return out;
}
