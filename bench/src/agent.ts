import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@loki-lite/shared';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { cpuSeconds, peakRssBytes } from './proc.js';
import { networkReason, Progress, printResult } from './report.js';
import { startLokiLite } from './server.js';

/*
 * Agent benchmark: writes --lines CRI lines into one container log file of a pods-shaped folder (before the
 * clock starts), runs the agent from this checkout against --url (or a loki-lite it starts), and reports
 * the time until the agent's /metrics count every line as acknowledged, with the agent's CPU seconds and
 * peak RSS. It stops with the reason when the endpoint cannot be reached, the agent exits, the server
 * drops batches (the agent's drop metric), or no line is acknowledged for --stall seconds.
 *
 *   pnpm bench agent --lines 1000000
 *   pnpm bench agent --url http://loki:3100 --lines 1000000 --files 8 --json
 */
const args = parseArgs(process.argv.slice(2), { url: '', lines: '1000000', files: '1', tenant: '', 'agent-args': '', stall: '60', json: '' });
const totalLines = Number(args.lines);
const files = Number(args.files);
const AGENT_BIN = fileURLToPath(new URL('../../packages/agent/bin/agent.mjs', import.meta.url));

async function writeLogs(root: string): Promise<number> {
  const gen = new LineGenerator(7);
  const start = Date.now() - 3_600_000;
  let bytes = 0;
  const perFile = Math.ceil(totalLines / files);
  for (let f = 0; f < files; f++) {
    const dir = path.join(root, 'pods', `training_worker-${f}_uid-${f}`, 'trainer');
    mkdirSync(dir, { recursive: true });
    const out = createWriteStream(path.join(dir, '0.log'));
    for (let i = f * perFile; i < Math.min(totalLines, (f + 1) * perFile); i++) {
      const ts = new Date(start + i / 100).toISOString();
      const line = gen.line(i, ts);
      bytes += Buffer.byteLength(line);
      if (!out.write(`${ts.replace('Z', '123456Z')} stdout F ${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
  }
  return bytes;
}

/** The agent's acknowledged and dropped entries, from its /metrics (zero while it is starting). */
async function agentCounts(metricsUrl: string): Promise<{ sent: number; dropped: number; reasons: string }> {
  let text: string;
  try {
    text = await (await fetch(metricsUrl)).text();
  } catch {
    return { sent: 0, dropped: 0, reasons: '' };
  }
  const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)`, 'gm'))];
  const dropped = sum('promtail_dropped_entries_total');
  return {
    sent: sum('promtail_sent_entries_total').reduce((n, m) => n + Number(m[2]), 0),
    dropped: dropped.reduce((n, m) => n + Number(m[2]), 0),
    reasons: dropped
      .filter((m) => Number(m[2]) > 0)
      .map((m) => m[1])
      .join('; '),
  };
}

/** Any HTTP answer from the endpoint will do; a network error is the one clear failure worth having early. */
async function checkReachable(url: string): Promise<void> {
  await fetch(`${url}/ready`).catch((e: Error) => {
    throw new Error(`cannot reach ${url}: ${networkReason(e)}`);
  });
}

async function main(): Promise<void> {
  const stallSeconds = Number(args.stall);
  if (!(stallSeconds > 0)) throw new Error(`--stall must be a positive number of seconds, not "${args.stall}"`);
  const root = mkdtempSync(path.join(tmpdir(), 'bench-agent-'));
  const server = args.url ? undefined : await startLokiLite();
  let agent: ReturnType<typeof spawn> | undefined;
  let progress: Progress | undefined;
  try {
    const url = (args.url || server!.url).replace(/\/$/, '');
    await checkReachable(url);
    process.stderr.write(`writing ${totalLines} CRI lines into ${files} file(s)...\n`);
    const bytes = await writeLogs(root);
    const port = await freePort();
    const config = path.join(root, 'agent.yaml');
    writeFileSync(
      config,
      `
server: {http_listen_address: 127.0.0.1, http_listen_port: ${port}, log_level: warn}
positions: {filename: ${path.join(root, 'positions.yaml')}}
clients: [{url: ${url}/loki/api/v1/push${args.tenant ? `, tenant_id: ${args.tenant}` : ''}}]
scrape_configs:
  - job_name: bench
    pipeline_stages: [{cri: {}}, {static_labels: {cluster: bench}}]
    static_configs: [{labels: {job: bench, __path__: "${root}/pods/*/*/*.log"}}]
`,
    );
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    agent = spawn(process.execPath, [...(args['agent-args'] ? args['agent-args'].split(' ') : []), AGENT_BIN, `-config.file=${config}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let agentLog = '';
    agent.stderr!.on('data', (d: Buffer) => (agentLog = (agentLog + d.toString()).slice(-2000)));
    const lastLogLine = () => agentLog.trim().split('\n').pop() ?? '';
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    let progressAt = 0;
    let lastSent = 0;
    progress = new Progress(() => `${lastSent} of ${totalLines} lines acknowledged after ${elapsed().toFixed(0)} s`);
    for (;;) {
      if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}: ${lastLogLine()}`);
      const { sent, dropped, reasons } = await agentCounts(metricsUrl);
      if (dropped > 0) throw new Error(`the server dropped ${dropped} entries (${reasons}): ${lastLogLine()}`);
      if (sent >= totalLines) break;
      const now = elapsed();
      if (sent > lastSent) {
        lastSent = sent;
        progressAt = now;
      } else if (now - progressAt > stallSeconds) {
        throw new Error(`no line acknowledged for ${stallSeconds} s (${sent} of ${totalLines}); the agent says: ${lastLogLine() || 'nothing'}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    progress.stop();
    const seconds = elapsed();
    const cpu = cpuSeconds(agent.pid!);
    const mb = bytes / 1024 / 1024;
    printResult(
      {
        endpoint: args.url || 'loki-lite (started by the bench)',
        lines: totalLines,
        files,
        'MB of lines': Number(mb.toFixed(1)),
        seconds: Number(seconds.toFixed(2)),
        'lines/s': Math.round(totalLines / seconds),
        'MB/s': Number((mb / seconds).toFixed(1)),
        'agent CPU s': Number(cpu.toFixed(2)),
        'agent CPU s per 100 MB': Number(((cpu / mb) * 100).toFixed(2)),
        'agent peak RSS MB': Math.round(peakRssBytes(agent.pid!) / 1024 / 1024),
      },
      args.json === 'true',
    );
  } finally {
    progress?.stop();
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((r) => agent!.once('exit', r));
    }
    server?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
