import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/* A loki-lite started from the built bin as a separate process, for tests that kill or signal it. */

const BIN = fileURLToPath(new URL('../../bin/loki-lite.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Writes a config for a filesystem-backed server in `dir` listening on `port`, with extra YAML lines. */
export function writeChildConfig(dir: string, port: number, extra: string): string {
  const file = path.join(dir, 'loki.yaml');
  writeFileSync(
    file,
    `
auth_enabled: false
server: {http_listen_address: 127.0.0.1, http_listen_port: ${port}, log_level: error}
common: {path_prefix: ${dir}}
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
${extra}
`,
  );
  return file;
}

export interface ChildServer {
  readonly process: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  exited(): Promise<number | null>;
}

/**
 * Starts the built bin and waits until /ready answers 200. `runWith`: a command that runs the bin, such as
 * nsenter to start it in another mount namespace.
 */
export async function startChild(configFile: string, port: number, runWith: readonly string[] = []): Promise<ChildServer> {
  if (!existsSync(DIST)) throw new Error('packages/loki-lite is not built: run `pnpm test` (it builds first)');
  const command = [...runWith, process.execPath, BIN, `-config.file=${configFile}`];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = () =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`loki-lite exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/ready`)).status === 200) return { process: child, url, stderr: () => stderr, exited };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`loki-lite did not become ready: ${stderr}`);
}
