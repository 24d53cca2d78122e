import { byteSize, duration, port } from '@loki-lite/shared';
import { z } from 'zod';
import { RELABEL_ACTIONS } from '../relabel/relabel.js';

/*
 * The agent's configuration is Promtail's YAML (its keys, nesting and defaults), so a Promtail config works
 * unchanged. Objects are strict: an unknown key is an error. Promtail keys the agent accepts but does not act
 * on yet are listed in known-keys.ts. The few settings Promtail has no key for live under `agent:`.
 */

const SECOND = 1_000_000_000n;

const labelMap = z.record(z.string(), z.string());

const tlsConfig = z.strictObject({
  ca_file: z.string().default(''),
  cert_file: z.string().default(''),
  key_file: z.string().default(''),
  server_name: z.string().default(''),
  insecure_skip_verify: z.boolean().default(false),
});

const basicAuth = z.strictObject({
  username: z.string().default(''),
  username_file: z.string().default(''),
  password: z.string().default(''),
  password_file: z.string().default(''),
});

const clientConfig = z.strictObject({
  url: z.string(),
  tenant_id: z.string().default(''),
  headers: labelMap.default({}),
  batchwait: duration.default(1n * SECOND),
  batchsize: byteSize.default(1_048_576),
  basic_auth: basicAuth.optional(),
  bearer_token: z.string().default(''),
  bearer_token_file: z.string().default(''),
  tls_config: tlsConfig.prefault({}),
  backoff_config: z
    .strictObject({
      min_period: duration.default(SECOND / 2n),
      max_period: duration.default(300n * SECOND),
      max_retries: z.number().int().min(0).default(10),
    })
    .prefault({}),
  external_labels: labelMap.default({}),
  timeout: duration.default(10n * SECOND),
  drop_rate_limited_batches: z.boolean().default(false),
});

const relabelConfig = z.strictObject({
  source_labels: z.array(z.string()).default([]),
  separator: z.string().default(';'),
  target_label: z.string().optional(),
  regex: z.string().default('(.*)'),
  modulus: z.number().int().min(0).optional(),
  replacement: z.string().default('$1'),
  action: z
    .string()
    .transform((a) => a.toLowerCase())
    .pipe(z.enum(RELABEL_ACTIONS as [string, ...string[]]))
    .default('replace'),
});

const kubernetesSdConfig = z.strictObject({
  role: z.enum(['pod']),
  api_server: z.string().default(''),
  kubeconfig_file: z.string().default(''),
  namespaces: z.strictObject({ names: z.array(z.string()).default([]), own_namespace: z.boolean().default(false) }).prefault({}),
  selectors: z.array(z.strictObject({ role: z.enum(['pod']), label: z.string().default(''), field: z.string().default('') })).default([]),
});

const staticConfig = z.strictObject({
  targets: z.array(z.string()).default([]),
  labels: labelMap.default({}),
});

/** One pipeline stage: a mapping with a single key naming the stage (checked in pipeline/compile.ts). */
const stageConfig = z
  .record(z.string(), z.unknown())
  .refine((s) => Object.keys(s).length === 1, 'a pipeline stage is a mapping with exactly one key, the stage name');

const scrapeConfig = z.strictObject({
  job_name: z.string().min(1),
  pipeline_stages: z.array(stageConfig).default([]),
  static_configs: z.array(staticConfig).default([]),
  kubernetes_sd_configs: z.array(kubernetesSdConfig).default([]),
  relabel_configs: z.array(relabelConfig).default([]),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      http_listen_address: z.string().default(''),
      http_listen_port: port.default(80),
      grpc_listen_port: port.default(9095),
      log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      disable: z.boolean().default(false),
    })
    .prefault({}),
  positions: z
    .strictObject({
      filename: z.string().default('/var/log/positions.yaml'),
      sync_period: duration.default(10n * SECOND),
      ignore_invalid_yaml: z.boolean().default(false),
    })
    .prefault({}),
  clients: z.array(clientConfig).default([]),
  scrape_configs: z.array(scrapeConfig).default([]),
  target_config: z.strictObject({ sync_period: duration.default(10n * SECOND) }).prefault({}),
  agent: z
    .strictObject({
      /** Node whose pods Kubernetes discovery watches; default: the HOSTNAME environment variable, then the host name. */
      node_name: z.string().default(''),
      /** Files read at once; more wait their turn (oldest-read first). */
      max_open_files: z.number().int().min(1).default(1024),
      /** Unread bytes of deleted files kept open; beyond it the oldest deleted file is closed and counted as dropped. */
      max_unread_deleted_bytes: byteSize.default(1024 * 1024 * 1024),
      /** Line bytes one client has read and not had acknowledged; that client's reading pauses above it (per client). */
      max_queued_bytes: byteSize.default(8 * 1024 * 1024),
      /** How long a deleted pod's labels are kept for lines still being read from its files. */
      deleted_pod_retention: duration.default(300n * SECOND),
      /** Longest wait for the end of a partial (CRI P / docker split) line, and the largest joined line. */
      partial_line_timeout: duration.default(5n * SECOND),
      max_partial_line_size: byteSize.default(256 * 1024),
      /** How often the path globs are expanded again besides file-system events. */
      rescan_period: duration.default(SECOND),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type ClientConfig = Config['clients'][number];
export type ScrapeConfig = Config['scrape_configs'][number];
export type KubernetesSdConfig = ScrapeConfig['kubernetes_sd_configs'][number];
export type StageConfig = ScrapeConfig['pipeline_stages'][number];
