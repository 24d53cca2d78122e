import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@loki-lite/shared';
import { append, criLine, eventually, podsTree } from './testing/pods-tree.js';
import { AGENT_BIN, LOKI_BIN, type Program, Programs } from './testing/programs.js';
import { startReceiver } from './testing/receiver.js';

/*
 * The no-loss promise, with real processes: the built agent tails three containers' files while they are
 * written and rotated (kubelet style: rename, new file), is killed with SIGKILL again and again, and the
 * loki-lite it ships to is stopped for a while and started again. At the end every line written is in
 * loki-lite, and the server received no more extra copies than one batch per agent kill or server restart.
 */

const BATCH_LINES_MAX = 400; // batchsize 16KB below, lines of ~60 bytes

describe('no line is lost', () => {
  const tree = podsTree();
  const lokiDir = mkdtempSync(path.join(tmpdir(), 'agent-loss-loki-'));
  const programs = new Programs();
  afterEach(() => programs.stopAll());
  afterAll(() => {
    tree.remove();
    rmSync(lokiDir, { recursive: true, force: true });
  });

  it('across SIGKILLs of the agent, rotations and a server outage', async () => {
    const lokiPort = await freePort();
    const agentPort = await freePort();
    const lokiUrl = `http://127.0.0.1:${lokiPort}`;
    const lokiConfig = path.join(lokiDir, 'loki.yaml');
    writeFileSync(lokiConfig, `
auth_enabled: false
server: {http_listen_address: 127.0.0.1, http_listen_port: ${lokiPort}, log_level: error}
common: {path_prefix: ${lokiDir}}
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
limits_config: {reject_old_samples: false, max_query_length: 0, split_queries_by_interval: 0, max_entries_limit_per_query: 100000,
  discover_service_name: [], discover_log_levels: false, ingestion_rate_mb: 1024, ingestion_burst_size_mb: 1024}
`);
    const agentConfig = path.join(tree.root, 'agent.yaml');
    writeFileSync(agentConfig, `
server: {http_listen_address: 127.0.0.1, http_listen_port: ${agentPort}, log_level: warn}
positions: {filename: ${path.join(tree.root, 'positions.yaml')}}
clients: [{url: ${lokiUrl}/loki/api/v1/push, batchwait: 200ms, batchsize: 16KB, backoff_config: {min_period: 100ms, max_period: 500ms}}]
agent: {rescan_period: 200ms}
scrape_configs:
  - job_name: pods
    pipeline_stages: [{cri: {}}]
    static_configs: [{labels: {job: loss, __path__: "${tree.podsDir}/*/*/*.log"}}]
`);

    const startLoki = () => programs.start(LOKI_BIN, [`-config.file=${lokiConfig}`], lokiUrl);
    const startAgentProcess = () => programs.start(AGENT_BIN, [`-config.file=${agentConfig}`], `http://127.0.0.1:${agentPort}`);
    /** Lines the running server has received (duplicates included). */
    const receivedByServer = async () => {
      const text = await (await fetch(`${lokiUrl}/metrics`)).text();
      return Number(/^loki_distributor_lines_received_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };

    let loki: Program = await startLoki();
    let agent: Program = await startAgentProcess();

    // Three containers written at once; each file is rotated every 300 lines.
    const files = ['a', 'b', 'c'].map((c) => path.join(tree.containerDir('ns', `pod-${c}`, `uid-${c}`, 'main'), '0.log'));
    const written: string[] = [];
    let writing = true;
    const t0 = Date.now() - 3_600_000;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        for (const [i, file] of files.entries()) {
          let chunk = '';
          for (let k = 0; k < 10; k++, n++) {
            const line = `file=${i} seq=${n} ${'p'.repeat(n % 17)}`;
            chunk += criLine(new Date(t0 + n), 'stdout', 'F', line);
            written.push(line);
          }
          appendFileSync(file, chunk);
          if (n % 300 < 10) renameSync(file, `${file}.${n}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    let kills = 0;
    let received = 0;
    try {
      for (let round = 0; round < 6; round++) {
        await new Promise((r) => setTimeout(r, 600 + Math.random() * 600));
        await programs.stop(agent, 'SIGKILL');
        kills++;
        if (round === 2) {
          // A server outage while the agent is down and while it is up again.
          received += await receivedByServer();
          await programs.stop(loki, 'SIGTERM');
          agent = await startAgentProcess();
          await new Promise((r) => setTimeout(r, 1500));
          loki = await startLoki();
          kills++; // the outage can duplicate one batch too
        } else {
          agent = await startAgentProcess();
        }
      }
    } finally {
      writing = false;
      await writer;
    }

    const want = new Set(written);
    const have = new Set<string>();
    const complete = await eventually(async () => {
      const q = new URLSearchParams({ query: '{job="loss"}', start: String((t0 - 1000) * 1e6), end: String((t0 + written.length + 1000) * 1e6), limit: '100000', direction: 'forward' });
      const res = await fetch(`${lokiUrl}/loki/api/v1/query_range?${q}`);
      if (res.status !== 200) return false;
      const body = (await res.json()) as { data: { result: Array<{ values: Array<[string, string]> }> } };
      have.clear();
      for (const s of body.data.result) for (const [, line] of s.values) have.add(line);
      return have.size >= want.size;
    }, 30_000);
    const missing = [...want].filter((l) => !have.has(l));
    expect(missing.slice(0, 5), `${missing.length} lines missing; agent log:\n${agent.stderr().slice(-3000)}`).toEqual([]);
    expect(complete).toBe(true);
    received += await receivedByServer();
    expect(received).toBeGreaterThanOrEqual(written.length);
    expect(received - written.length).toBeLessThanOrEqual(kills * BATCH_LINES_MAX);
  }, 120_000);

  it('reads the rotated files a run began to read when that run was killed before it saved any position', async () => {
    // Nothing listens on the client's port while the first run is up: no batch is acknowledged, so that run
    // saves no position before it is killed (and no timer save either).
    const lokiPort = await freePort();
    const agentPort = await freePort();
    const agentUrl = `http://127.0.0.1:${agentPort}`;
    const agentConfig = path.join(tree.root, 'first-run.yaml');
    writeFileSync(agentConfig, `
server: {http_listen_address: 127.0.0.1, http_listen_port: ${agentPort}, log_level: warn}
positions: {filename: ${path.join(tree.root, 'first-run-positions.yaml')}, sync_period: 1h}
clients: [{url: http://127.0.0.1:${lokiPort}/loki/api/v1/push, batchwait: 100ms, backoff_config: {min_period: 100ms, max_period: 500ms}}]
agent: {rescan_period: 200ms}
scrape_configs:
  - job_name: pods
    pipeline_stages: [{cri: {}}]
    static_configs: [{labels: {job: first-run, __path__: "${tree.podsDir}/ns_first-run_*/*/*.log"}}]
`);
    const file = path.join(tree.containerDir('ns', 'first-run', 'u1', 'c'), '0.log');
    const line = (i: number) => criLine(new Date(Date.parse('2025-06-01T10:00:00Z') + i), 'stdout', 'F', `line ${i}`);
    const first = await programs.start(AGENT_BIN, [`-config.file=${agentConfig}`], agentUrl);
    for (let i = 0; i < 50; i++) append(file, line(i));
    renameSync(file, `${file}.20250601-100000`);
    for (let i = 50; i < 100; i++) append(file, line(i));
    const readLines = async () => {
      const text = await (await fetch(`${agentUrl}/metrics`)).text();
      return [...text.matchAll(/^promtail_read_lines_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    expect(await eventually(async () => (await readLines()) >= 100)).toBe(true);
    await programs.stop(first, 'SIGKILL');

    const receiver = await startReceiver(lokiPort);
    try {
      await programs.start(AGENT_BIN, [`-config.file=${agentConfig}`], agentUrl);
      const shipped = async () => (await receiver.lines('{job="first-run"}')).map((l) => l.line);
      await eventually(async () => (await shipped()).length >= 100);
      expect(await shipped()).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
    } finally {
      await programs.stopAll();
      await receiver.stop();
    }
  });
});
