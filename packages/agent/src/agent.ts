import type http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { type Logger, silentLogger } from '@loki-lite/shared';
import { LokiClient } from './client/client.js';
import { QueueBudget } from './client/queue-budget.js';
import type { Config } from './config/schema.js';
import type { KubernetesDiscovery } from './discovery/kubernetes.js';
import type { Target } from './discovery/target.js';
import { buildTarget, type ScrapeJob, scrapeJob, staticLabelSets } from './discovery/targets.js';
import { type AgentMetrics, createMetrics } from './metrics.js';
import { compilePipeline } from './pipeline/pipeline.js';
import { PositionsFile } from './positions/positions.js';
import { startAgentServer } from './server.js';
import { TailManager } from './tail/tail-manager.js';

/*
 * The composition root of the agent: discovery → relabel → targets → tail manager → clients, plus the
 * positions file and the HTTP endpoints. No logic of its own.
 */

const NS_PER_MS = 1_000_000n;

export interface AgentOptions {
  readonly nodeName: string;
  readonly version: string;
  readonly log?: Logger;
  /** Replaces the KubeConfig the config names (tests). */
  readonly kubeConfig?: KubeConfig;
}

export interface RunningAgent {
  readonly metrics: AgentMetrics;
  /** The HTTP port /metrics and /ready listen on (undefined with server.disable). */
  readonly port: number | undefined;
  /** Stops reading, waits up to `timeoutMs` for in-flight batches, saves the positions. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startAgent(config: Config, opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.log ?? silentLogger;
  const metrics = createMetrics();
  // One queue bound per client, so that one slow endpoint never holds back the others' reading.
  const budgets = config.clients.map(
    () => new QueueBudget(config.agent.max_queued_bytes, () => metrics.queuedBytes.set(budgets.reduce((n, b) => n + b.bytes, 0))),
  );
  let tail: TailManager | undefined;
  const clients = config.clients.map(
    (c, index) =>
      new LokiClient({
        index,
        config: c,
        budget: budgets[index]!,
        metrics,
        log,
        userAgent: `loki-lite-agent/${opts.version}`,
        onSettled: () => tail?.onSettled() ?? Promise.resolve(),
      }),
  );
  tail = new TailManager({
    clients,
    metrics,
    log,
    positions: new PositionsFile(config.positions.filename, log, config.positions.ignore_invalid_yaml),
    options: {
      maxOpenFiles: config.agent.max_open_files,
      maxUnreadDeletedBytes: config.agent.max_unread_deleted_bytes,
      rescanMs: Number(config.agent.rescan_period / NS_PER_MS),
      positionsSyncMs: Number(config.positions.sync_period / NS_PER_MS),
      decoder: {
        maxPartialBytes: config.agent.max_partial_line_size,
        maxPartialAgeMs: Number(config.agent.partial_line_timeout / NS_PER_MS),
      },
    },
  });
  const manager = tail;

  const jobs = config.scrape_configs.map((sc) => scrapeJob(sc, compilePipeline(sc.pipeline_stages)));
  const staticTargets = jobs.flatMap((job) => staticLabelSets(job.config).map((ls) => buildTarget(job, ls, 'static', opts.nodeName)));
  const discovered = new Map<KubernetesDiscovery, Target[]>();
  const publish = () => {
    const all = [...staticTargets, ...[...discovered.values()].flat()].filter((t): t is Target => t !== undefined);
    const unique = [...new Map(all.map((t) => [t.key, t])).values()];
    metrics.targets.reset();
    for (const t of unique) metrics.targets.inc({ job: t.job });
    manager.setTargets(unique);
  };

  manager.start();
  const discoveries = await startKubernetesDiscoveries(jobs, config, opts, log, (d, targets) => {
    discovered.set(d, targets);
    publish();
  });
  publish();

  let server: http.Server | undefined;
  if (!config.server.disable) {
    server = await startAgentServer(config.server.http_listen_address, config.server.http_listen_port, metrics.registry, () => true);
  }
  const address = server?.address();
  return {
    metrics,
    port: address && typeof address === 'object' ? address.port : undefined,
    async stop(timeoutMs = 5000) {
      for (const d of discoveries) d.stop();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await manager.stop(timeoutMs);
    },
  };
}

async function startKubernetesDiscoveries(
  jobs: readonly ScrapeJob[],
  config: Config,
  opts: AgentOptions,
  log: Logger,
  onTargets: (d: KubernetesDiscovery, targets: Target[]) => void,
): Promise<KubernetesDiscovery[]> {
  const discoveries: KubernetesDiscovery[] = [];
  if (!jobs.some((j) => j.config.kubernetes_sd_configs.length > 0)) return discoveries;
  // Loaded only when used: the Kubernetes client adds ~75 MB of RSS, most of it code for APIs we never call.
  const { KubernetesDiscovery: Discovery } = await import('./discovery/kubernetes.js');
  for (const job of jobs) {
    for (const sd of job.config.kubernetes_sd_configs) {
      const d: KubernetesDiscovery = new Discovery({
        config: sd,
        nodeName: opts.nodeName,
        retentionMs: Number(config.agent.deleted_pod_retention / NS_PER_MS),
        log,
        kubeConfig: opts.kubeConfig,
        onChange: (labelSets) =>
          onTargets(
            d,
            labelSets.map((ls) => buildTarget(job, ls, 'kubernetes', opts.nodeName)).filter((t): t is Target => t !== undefined),
          ),
      });
      discoveries.push(d);
    }
  }
  await Promise.all(discoveries.map((d) => d.start()));
  return discoveries;
}
