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
  return stringify(plain(config, ''), { lineWidth: 0 });
}

/** The config tree with bigints made readable: schema period starts as dates, every other one a duration. */
function plain(v: unknown, key: string): unknown {
  if (typeof v === 'bigint') return key === 'from' ? formatRFC3339(v).slice(0, 10) : formatGoDuration(v);
  if (Array.isArray(v)) return v.map((x) => plain(x, key));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) && typeof x === 'string' && x !== '' ? MASK : plain(x, k);
  return out;
}
