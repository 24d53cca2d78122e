import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { startChild, writeChildConfig } from './testing/child-server.js';
import { eventually } from './testing/eventually.js';

/* The built bin as an operator runs it: what each flag prints, where, and the exit status. */

const BIN = fileURLToPath(new URL('../bin/loki-lite.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin to its end (or, with `until`, until stderr holds it, then stops it), always killing it. */
function run(args: readonly string[], until?: string): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  return new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loki-lite ${args.join(' ')} did not finish: ${stderr}`));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (until !== undefined && stderr.includes(until)) child.kill('SIGKILL');
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  }).finally(() => child.kill('SIGKILL'));
}

describe('loki-lite command line', () => {
  it.each(['-help', '-h', '--help'])('%s prints the usage of every flag on stderr and exits 0', async (flag) => {
    const { code, stdout, stderr } = await run([flag]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage of loki-lite:\n {2}-config\.expand-env\n/);
    for (const name of ['-config.file string', '-target string', '-log.format string', '-print-config-stderr', '-version'])
      expect(stderr).toContain(`\n  ${name}\n`);
  });

  it("-version prints the version in Loki's layout on stdout and exits 0", async () => {
    const { code, stdout } = await run(['-version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^loki-lite, version \d+\.\d+\.\d+ \(branch: \S+, revision: \S+\)\n {2}build user: +\S+\n {2}build date: +\S+\n {2}node version: +v20\.\S+\n {2}platform: +linux\/x64\n$/,
    );
  });

  it.each([
    [['-target=querier'], 'target: querier is not implemented yet; loki-lite runs -target=all'],
    [['-target=distributor,ingester'], 'target: distributor,ingester is not implemented yet; loki-lite runs -target=all'],
    [['-target=backend'], 'target: backend is not implemented yet; loki-lite runs -target=all'],
    [['-target=query-scheduler'], 'target: query-scheduler is not implemented yet; loki-lite runs -target=all'],
    [['-target=ruler'], 'target: ruler is not implemented yet'],
    [['-target=all,pattern-ingester'], 'target: pattern-ingester is not implemented yet'],
    // dskit's text for a name that is no module
    [['-target=frontend'], "target: unrecognised module name: frontend (loki-lite's targets: all, write, read, backend, distributor,"],
    [['-log.format=xml'], 'invalid value "xml" for -log.format: logfmt or json'],
    [['-nope'], 'flag provided but not defined: -nope'],
  ])('%j ends with a clear message and exit status 1, no stack trace', async (args, message) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loki-lite-cli-'));
    try {
      const { code, stderr } = await run([...args, `-config.file=${writeChildConfig(dir, await freePort(), '')}`]);
      expect(code).toBe(1);
      expect(stderr).toContain(message);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-print-config-stderr writes the configuration in effect as YAML, defaults included; -log.format=json logs JSON lines', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loki-lite-cli-'));
    try {
      const config = writeChildConfig(dir, await freePort(), 'storage_config: {aws: {bucketnames: b, secret_access_key: hunter2}}');
      const { stderr } = await run([`-config.file=${config}`, '-print-config-stderr', '-log.format=json', '-log.level=info'], 'listening on');
      const yaml = stderr.slice(stderr.indexOf('---\n'), stderr.indexOf('\n{', stderr.indexOf('---\n')));
      expect(yaml).toContain('\n  log_format: json\n');
      expect(yaml).toContain('\n  max_chunk_age: 2h0m0s\n'); // a default, as Go writes a duration
      expect(yaml).toContain('\n    - from: 2020-01-01\n');
      expect(yaml).toContain('secret_access_key: "********"');
      expect(yaml).not.toContain('hunter2');
      const logLines = stderr.split('\n').filter((l) => l.startsWith('{'));
      expect(logLines.length).toBeGreaterThan(0);
      for (const l of logLines) expect(Object.keys(JSON.parse(l) as object)).toEqual(['level', 'msg', 'ts']); // sorted, as go-kit writes them
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-log-config-reverse-order logs the configuration at info level, a line per YAML line, the last first', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loki-lite-cli-'));
    try {
      const { stderr } = await run(
        [`-config.file=${writeChildConfig(dir, await freePort(), '')}`, '-log-config-reverse-order', '-log.level=info'],
        'listening on',
      );
      const logged = stderr
        .split('\n')
        .filter((l) => l.startsWith('level=info'))
        .map((l) => /msg=(.*)$/.exec(l)?.[1] ?? '');
      const at = (text: string) => logged.findIndex((m) => m.includes(text));
      expect(at('"target: all"')).toBeGreaterThan(at('auth_enabled: false'));
      expect(at('auth_enabled: false')).toBeGreaterThan(at('http_listen_port'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("/log_level tells the level (GET) and changes it while the server runs (POST log_level=...), as Loki's answers", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loki-lite-cli-'));
    const port = await freePort();
    const server = await startChild(writeChildConfig(dir, port, ''), port);
    try {
      const level = () => fetch(`${server.url}/log_level`).then((r) => r.json());
      const set = (value: string) =>
        fetch(`${server.url}/log_level`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `log_level=${value}` });
      expect(await level()).toEqual({ message: 'Current log level is error' }); // writeChildConfig logs errors only
      const bad = await set('loud');
      expect([bad.status, await bad.json()]).toEqual([400, { status: 'failed', message: 'unrecognized log level "loud"' }]);
      const ok = await set('debug');
      expect([ok.status, await ok.json()]).toEqual([200, { status: 'success', message: 'Log level set to debug' }]);
      expect(await level()).toEqual({ message: 'Current log level is debug' });
      // Debug lines now reach stderr: a flush logs one per chunk.
      const now = BigInt(Date.now()) * 1_000_000n;
      await fetch(`${server.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ streams: [{ stream: { app: 'lvl' }, values: [[now.toString(), 'x']] }] }),
      });
      await fetch(`${server.url}/flush`, { method: 'POST' });
      await eventually(async () => /^level=debug ts=\S+ msg="flushed chunk of \{app=\\"lvl\\"/m.test(server.stderr()), 10_000);
    } finally {
      server.process.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
