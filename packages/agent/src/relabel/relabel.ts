import { createHash } from 'node:crypto';
import { compileGoRegex, isValidLabelName } from '@loki-lite/shared';

/*
 * Prometheus relabeling (model/relabel), which Promtail and Alloy use for discovered targets: each rule reads
 * the values of `source_labels` joined by `separator`, matches the fully anchored RE2 `regex`, and acts.
 * A target dropped by a rule yields undefined.
 */

export type RelabelAction =
  | 'replace'
  | 'keep'
  | 'drop'
  | 'keepequal'
  | 'dropequal'
  | 'hashmod'
  | 'labelmap'
  | 'labeldrop'
  | 'labelkeep'
  | 'lowercase'
  | 'uppercase';

export const RELABEL_ACTIONS: readonly RelabelAction[] = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
];

/** A rule as written in YAML, with Prometheus' defaults already applied. */
export interface RelabelConfig {
  readonly source_labels: readonly string[];
  readonly separator: string;
  readonly target_label: string | undefined;
  readonly regex: string;
  readonly modulus: number | undefined;
  readonly replacement: string;
  readonly action: RelabelAction;
}

export interface CompiledRule {
  readonly config: RelabelConfig;
  readonly regex: RegExp;
}

/** Checks a rule the way Prometheus' config loading does; returns the problems (empty when valid). */
export function checkRelabelConfig(c: RelabelConfig): string[] {
  const problems: string[] = [];
  const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];
  if (needsTarget.includes(c.action) && !c.target_label) problems.push(`relabel configuration for ${c.action} action requires 'target_label' value`);
  if (c.action === 'hashmod' && !c.modulus) problems.push('relabel configuration for hashmod requires non-zero modulus');
  if (
    (c.action === 'lowercase' || c.action === 'uppercase' || c.action === 'keepequal' || c.action === 'dropequal' || c.action === 'hashmod') &&
    c.target_label &&
    !isValidLabelName(c.target_label)
  ) {
    problems.push(`${JSON.stringify(c.target_label)} is invalid 'target_label' for ${c.action} action`);
  }
  if ((c.action === 'keepequal' || c.action === 'dropequal') && (c.regex !== '(.*)' || c.replacement !== '$1')) {
    problems.push(`${c.action} action requires only 'source_labels' and 'target_label', and no other fields`);
  }
  if ((c.action === 'labeldrop' || c.action === 'labelkeep') && (c.source_labels.length > 0 || c.target_label || c.replacement !== '$1')) {
    problems.push(`${c.action} action requires only 'regex', and no other fields`);
  }
  try {
    compileGoRegex(c.regex, true);
  } catch (e) {
    problems.push(`invalid regex ${JSON.stringify(c.regex)}: ${(e as Error).message}`);
  }
  return problems;
}

export function compileRules(configs: readonly RelabelConfig[]): CompiledRule[] {
  return configs.map((config) => ({ config, regex: compileGoRegex(config.regex, true) }));
}

/**
 * Applies the rules to a copy of `labels`. Returns the relabelled labels, or undefined when a rule drops
 * the target.
 */
export function relabel(labels: ReadonlyMap<string, string>, rules: readonly CompiledRule[]): Map<string, string> | undefined {
  const out = new Map(labels);
  for (const rule of rules) if (!applyRule(out, rule)) return undefined;
  return out;
}

/** Applies one rule in place; false when the target is dropped. */
function applyRule(labels: Map<string, string>, { config: c, regex }: CompiledRule): boolean {
  const value = c.source_labels.map((name) => labels.get(name) ?? '').join(c.separator);
  switch (c.action) {
    case 'keep':
      return regex.test(value);
    case 'drop':
      return !regex.test(value);
    case 'keepequal':
      return value === (labels.get(c.target_label!) ?? '');
    case 'dropequal':
      return value !== (labels.get(c.target_label!) ?? '');
    case 'replace': {
      const m = regex.exec(value);
      if (!m) return true;
      const target = expand(c.target_label!, m);
      if (!isValidLabelName(target)) return true;
      const result = expand(c.replacement, m);
      if (result === '') labels.delete(target);
      else labels.set(target, result);
      return true;
    }
    case 'lowercase':
      labels.set(c.target_label!, value.toLowerCase());
      return true;
    case 'uppercase':
      labels.set(c.target_label!, value.toUpperCase());
      return true;
    case 'hashmod':
      labels.set(c.target_label!, String(hashMod(value, c.modulus!)));
      return true;
    case 'labelmap':
      for (const [name, v] of [...labels]) {
        const m = regex.exec(name);
        if (m) labels.set(expand(c.replacement, m), v);
      }
      return true;
    case 'labeldrop':
      for (const name of [...labels.keys()]) if (regex.test(name)) labels.delete(name);
      return true;
    case 'labelkeep':
      for (const name of [...labels.keys()]) if (!regex.test(name)) labels.delete(name);
      return true;
  }
}

/** Prometheus' hashmod: the md5 of the value, its last 8 bytes as a big-endian uint64, modulo `modulus`. */
function hashMod(value: string, modulus: number): bigint {
  const sum = createHash('md5').update(value).digest();
  return sum.readBigUInt64BE(8) % BigInt(modulus);
}

/**
 * Go's regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$` for a dollar. A name is the longest run of
 * letters, digits and `_`, so `$1x` means the group named `1x` (which does not exist: empty), as in Go.
 */
export function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch !== '$' || i + 1 >= template.length) {
      out += ch;
      continue;
    }
    const next = template[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      name = close < 0 ? '' : template.slice(i + 2, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(name)) {
        out += ch;
        continue;
      }
      i = close;
    } else {
      const run = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!run) {
        out += ch;
        continue;
      }
      name = run[0];
      i += name.length;
    }
    out += groupValue(m, name);
  }
  return out;
}

function groupValue(m: RegExpExecArray, name: string): string {
  if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
  return m.groups?.[name] ?? '';
}
