import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@loki-lite/shared';

export interface BenchServer {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): void;
}

/**
 * Writes the bench's loki-lite config (data under `dir`, listening on 127.0.0.1:`port`), with `extra`
 * (top-level YAML lines, e.g. `querier: {worker_threads: 0}`) appended; returns its path.
 */
export function writeLokiLiteConfig(dir: string, port: number, extra = ''): string {
  const config = path.join(dir, 'loki.yaml');
  writeFileSync(
    config,
    `
auth_enabled: false
server: {http_listen_address: 127.0.0.1, http_listen_port: ${port}, log_level: warn}
common: {path_prefix: ${dir}}
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
ingester: {chunk_encoding: snappy}
limits_config: {reject_old_samples: false, ingestion_rate_mb: 100000, ingestion_burst_size_mb: 100000, per_stream_rate_limit: 10GB, per_stream_rate_limit_burst: 10GB}
${extra}
`,
  );
  return config;
}

/** The loki-lite of this checkout. */
export const LOKI_LITE_BIN = fileURLToPath(new URL('../../packages/loki-lite/bin/loki-lite.mjs', import.meta.url));

/**
 * Starts loki-lite from this checkout in a temporary folder with the embedded-default settings (filesystem
 * store, WAL on, snappy chunks), rate limits raised so the load is never refused. `nodeArgs` go to node.
 * The port is free when chosen, but another process (a test running beside this one) may bind it first;
 * the server then exits at once, and a new port is tried. With `dataDir` the server keeps its data there
 * (data a tool wrote beforehand), and stopping it leaves the folder.
 */
export async function startLokiLite(nodeArgs: readonly string[] = [], extraConfig = '', dataDir?: string): Promise<BenchServer> {
  for (let attempt = 1; ; attempt++) {
    const server = await startOnce(nodeArgs, extraConfig, await freePort(), dataDir);
    if (server) return server;
    if (attempt === 3) throw new Error('loki-lite did not start');
  }
}

/** The started server, or undefined if it exited before it was ready. */
async function startOnce(nodeArgs: readonly string[], extraConfig: string, port: number, dataDir?: string): Promise<BenchServer | undefined> {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'bench-loki-lite-'));
  const config = writeLokiLiteConfig(dir, port, extraConfig);
  const child = spawn(process.execPath, [...nodeArgs, LOKI_LITE_BIN, `-config.file=${config}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    child.kill('SIGKILL');
    if (!dataDir) rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return { url, child, stop };
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  stop();
  return undefined;
}
