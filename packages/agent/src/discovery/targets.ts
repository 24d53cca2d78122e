import type { ScrapeConfig } from '../config/schema.js';
import type { CompiledPipeline } from '../pipeline/pipeline.js';
import { compileRules, type CompiledRule, relabel, type RelabelConfig } from '../relabel/relabel.js';
import { noPathLabels, podLogPathLabels, type Target } from './target.js';

/*
 * Turns discovered label sets (Prometheus-style, with `__meta_*` labels) into targets: the scrape config's
 * relabel rules run, `__path__` names the files, and labels starting with `__` are dropped afterwards.
 * As in Promtail, a target with a `__host__` label belongs to the agent on that node only.
 */

export interface ScrapeJob {
  readonly config: ScrapeConfig;
  readonly rules: readonly CompiledRule[];
  readonly pipeline: CompiledPipeline;
}

export function scrapeJob(config: ScrapeConfig, pipeline: CompiledPipeline): ScrapeJob {
  return { config, rules: compileRules(config.relabel_configs as RelabelConfig[]), pipeline };
}

export type TargetSource = 'static' | 'kubernetes';

export function buildTarget(job: ScrapeJob, discovered: ReadonlyMap<string, string>, source: TargetSource, hostname: string): Target | undefined {
  const labels = relabel(discovered, job.rules);
  if (!labels) return undefined;
  const pathGlob = labels.get('__path__');
  if (!pathGlob) return undefined;
  const host = labels.get('__host__');
  if (host !== undefined && host !== '' && host !== hostname) return undefined;
  const visible = new Map<string, string>();
  for (const [k, v] of [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (!k.startsWith('__') && v !== '') visible.set(k, v);
  return {
    key: `${job.config.job_name}\u0000${pathGlob}\u0000${[...visible].join('\u0001')}`,
    job: job.config.job_name,
    pathGlob,
    labels: visible,
    pipeline: job.pipeline,
    labelsFromPath: source === 'static' ? podLogPathLabels : noPathLabels,
  };
}

/** The label sets of a scrape config's static_configs: each entry of `targets` with the group's labels. */
export function staticLabelSets(config: ScrapeConfig): Array<Map<string, string>> {
  const out: Array<Map<string, string>> = [];
  for (const group of config.static_configs) {
    const addresses = group.targets.length > 0 ? group.targets : ['localhost'];
    for (const address of addresses) out.push(new Map([['__address__', address], ...Object.entries(group.labels)]));
  }
  return out;
}
