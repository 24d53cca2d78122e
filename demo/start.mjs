#!/usr/bin/env node
// `pnpm start`: loki-lite on 127.0.0.1:3100 with its embedded default (everything under ./data), and the
// agent shipping a small demo: a pods-shaped folder under ./data/demo/pods where a pretend training job
// writes a CRI log line every second. Ctrl-C stops both (each saves its state).
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const node = (script, args) => spawn(process.execPath, [path.join(root, script), ...args], { stdio: 'inherit', cwd: root });

const loki = node('packages/loki-lite/bin/loki-lite.mjs', ['-config.file=packages/loki-lite/config/local.yaml']);
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch('http://127.0.0.1:3100/ready')).ok) break;
  } catch {
    // starting
  }
  await new Promise((r) => setTimeout(r, 100));
}

const dir = path.join(root, 'data/demo/pods/training_trainer-0_7f3c9a1e-0000-4000-8000-000000000001/trainer');
mkdirSync(dir, { recursive: true });
let step = 0;
const writer = setInterval(() => {
  step++;
  const ts = new Date().toISOString().replace('Z', '000000Z');
  const loss = (2 / Math.sqrt(step)).toFixed(4);
  appendFileSync(path.join(dir, '0.log'), `${ts} stdout F level=info step=${step} loss=${loss} tokens_per_sec=${11000 + (step % 7) * 300} msg="train step"\n`);
}, 1000);
const agent = node('packages/agent/bin/agent.mjs', ['-config.file=demo/agent.yaml']);
process.stderr.write(
  'demo: a training job logs to ./data/demo/pods; try {job="demo"} | logfmt in Grafana or:\n' +
    '  curl -s localhost:3100/loki/api/v1/query_range --data-urlencode \'query={job="demo"} | logfmt | loss < 0.5\'\n',
);

const stop = () => {
  clearInterval(writer);
  agent.kill('SIGTERM');
  agent.once('exit', () => loki.kill('SIGTERM'));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
loki.on('exit', (code) => process.exit(code ?? 0));
