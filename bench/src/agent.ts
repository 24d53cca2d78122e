import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { LineGenerator } from './loglines.js';
import { cpuSeconds, peakRssBytes } from './proc.js';
import { startLokiLite } from './server.js';

/*
 * Agent benchmark: writes --lines CRI lines into one container log file of a pods-shaped folder (before the
 * clock starts), runs the agent from this checkout against --url (or a loki-lite it starts), and reports
 * the time until the agent's /metrics count every line as acknowledged, with the agent's CPU seconds and
 * peak RSS.
 *
 *   node bench/dist/agent.js --lines 1000000
 *   node bench/dist/agent.js --url http://loki:3100 --lines 1000000 --files 8
 */
const args = parseArgs(process.argv.slice(2), { url: '', lines: '1000000', files: '1', tenant: '', 'agent-args': '' });
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

async function sentLines(metricsUrl: string): Promise<number> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    let n = 0;
    for (const m of text.matchAll(/^promtail_sent_entries_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
    return n;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'bench-agent-'));
  process.stderr.write(`writing ${totalLines} CRI lines into ${files} file(s)...\n`);
  const bytes = await writeLogs(root);
  const server = args.url ? undefined : await startLokiLite();
  const url = args.url || server!.url;
  const port = 32000 + Math.floor(Math.random() * 2000);
  const config = path.join(root, 'agent.yaml');
  writeFileSync(config, `
server: {http_listen_address: 127.0.0.1, http_listen_port: ${port}, log_level: warn}
positions: {filename: ${path.join(root, 'positions.yaml')}}
clients: [{url: ${url}/loki/api/v1/push${args.tenant ? `, tenant_id: ${args.tenant}` : ''}}]
scrape_configs:
  - job_name: bench
    pipeline_stages: [{cri: {}}, {static_labels: {cluster: bench}}]
    static_configs: [{labels: {job: bench, __path__: "${root}/pods/*/*/*.log"}}]
`);
  const started = process.hrtime.bigint();
  const agent = spawn(process.execPath, [...(args['agent-args'] ? args['agent-args'].split(' ') : []), AGENT_BIN, `-config.file=${config}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  let last = 0;
  for (;;) {
    if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}`);
    const sent = await sentLines(metricsUrl);
    if (sent >= totalLines) break;
    const now = Number(process.hrtime.bigint() - started) / 1e9;
    if (now - last >= 1) {
      process.stderr.write(`\r${sent} of ${totalLines} lines acknowledged after ${now.toFixed(0)} s`);
      last = now;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stderr.write('\n');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds(agent.pid!);
  const mb = bytes / 1024 / 1024;
  console.log(JSON.stringify({
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
  }, null, 2));
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  server?.stop();
  rmSync(root, { recursive: true, force: true });
}

await main();
