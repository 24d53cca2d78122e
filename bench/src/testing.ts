import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/* For the tools' tests: run a tool as a user does, through the built CLI. */

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export function runTool(tool: string, args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, tool, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
