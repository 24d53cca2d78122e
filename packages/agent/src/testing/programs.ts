import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * The built agent and loki-lite started as separate processes, for tests that SIGKILL them. Every program
 * a test starts is tracked, so its afterEach can end whatever is still running, also after a failed
 * assertion.
 */

export const AGENT_BIN = fileURLToPath(new URL('../../bin/agent.mjs', import.meta.url));
export const LOKI_BIN = fileURLToPath(new URL('../../../loki-lite/bin/loki-lite.mjs', import.meta.url));
const BUILT = [fileURLToPath(new URL('../../dist/main.js', import.meta.url)), fileURLToPath(new URL('../../../loki-lite/dist/main.js', import.meta.url))];

export interface Program {
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
}

export class Programs {
  private readonly running = new Set<ChildProcess>();

  /** Starts `bin` with `args` and waits until `readyUrl`/ready answers 200. */
  async start(bin: string, args: readonly string[], readyUrl: string): Promise<Program> {
    for (const built of BUILT) if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm test\` (it builds first)`);
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const program = { child, stderr: () => stderr };
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`${readyUrl}/ready`)).status === 200) return program;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop(program, 'SIGKILL');
    throw new Error(`${bin} did not become ready: ${stderr}`);
  }

  /** Sends `signal` and waits until the process has exited. */
  async stop(program: Program, signal: NodeJS.Signals): Promise<void> {
    const { child } = program;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Kills every program still running (for afterEach). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((child) => this.stop({ child, stderr: () => '' }, 'SIGKILL')));
  }
}
