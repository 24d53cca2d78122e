import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_BIN } from './testing/programs.js';

/* The built bin as an operator runs it: -help, -version, and a push URL without a scheme. */

function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AGENT_BIN, ...args], { timeout: 60_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('agent command line', () => {
  it('-help prints the usage of every flag on stderr and exits 0', async () => {
    const { code, stdout, stderr } = await run(['-help']);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage of loki-lite-agent:\n {2}-check-syntax\n/);
    expect(stderr).toContain('\n  -client.url string\n');
  });

  it("-version prints the version in Promtail's layout on stdout and exits 0", async () => {
    const { code, stdout } = await run(['-version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^loki-lite-agent, version \d+\.\d+\.\d+ \(branch: \S+, revision: \S+\)\n {2}build user: +\S+\n {2}build date: +\S+\n {2}node version: +v20\.\S+\n {2}platform: +\S+\n$/,
    );
  });

  it('a push URL without a scheme ends with the hint to write one, and exit status 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agent-cli-'));
    try {
      const config = path.join(dir, 'agent.yaml');
      writeFileSync(
        config,
        'clients: [{url: http://loki:3100/loki/api/v1/push}]\nscrape_configs: [{job_name: x, static_configs: [{labels: {__path__: /var/log/*.log}}]}]\n',
      );
      const { code, stderr } = await run(['-dry-run', `-config.file=${config}`, '-client.url=loki:3100/loki/api/v1/push']);
      expect(code).toBe(1);
      expect(stderr).toContain('"loki:3100/loki/api/v1/push" has no scheme; write http://loki:3100/loki/api/v1/push (or https://)');
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
