import { appendFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '@loki-lite/shared';
import { append, criLine, eventually, podsTree, type PodsTree } from './testing/pods-tree.js';
import { AGENT_BIN, LOKI_BIN, type Program, Programs } from './testing/programs.js';
import { type PushRecorder, startPushRecorder } from './testing/push-recorder.js';
import { queryEntries, type Receiver, startReceiver } from './testing/receiver.js';

/*
 * The no-loss promise, with real processes. In a crash storm the built agent tails three containers'
 * files while they are written (every 40th line split by the runtime into a P and an F part) and rotated
 * kubelet style (rename, new file), also while the agent is down, and the oldest rotated files are deleted
 * once shipped (kubelet keeps a few), so their inodes go to new files at once. The agent is killed with
 * SIGKILL again and again, and loki-lite is stopped for a while, the agent killed meanwhile too. Every
 * line written must be acknowledged by loki-lite and stored, and the lines it acknowledged twice must come
 * from at most one push per kill: the one in flight, acknowledged but not yet in the positions file.
 */

const KILLS = 6;
/** Rounds whose kill comes while loki-lite is down; it starts again after the last of them. */
const OUTAGE_ROUNDS = new Set([2, 3]);
const LINES_PER_TICK = 10;
const TICK_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A container's log: the live file and its rotated files with the lines each holds. */
interface ContainerLog {
  readonly path: string;
  /** Rotated after this many lines (kubelet rotates on size); 0: never. */
  readonly rotateEvery: number;
  live: string[];
  readonly rotated: Array<{ path: string; lines: string[] }>;
}

/** Three containers writing CRI lines: `c` is rotated every 100 of its lines, `b` every 400, `a` never. */
class Workload {
  readonly written: string[] = [];
  private readonly logs: ContainerLog[];
  private rotations = 0;
  private readonly t0 = Date.now() - 3_600_000;

  constructor(tree: PodsTree) {
    this.logs = [0, 400, 100].map((rotateEvery, i) => ({
      path: path.join(tree.containerDir('ns', `pod-${i}`, `uid-${i}`, 'main'), '0.log'),
      rotateEvery,
      live: [],
      rotated: [],
    }));
  }

  get timeRange(): { startNs: bigint; endNs: bigint } {
    return { startNs: BigInt(this.t0 - 1000) * 1_000_000n, endNs: BigInt(this.t0 + this.written.length + 1000) * 1_000_000n };
  }

  /** Writes LINES_PER_TICK lines to every container, rotating the files that are due. */
  tick(): void {
    for (const [i, log] of this.logs.entries()) {
      let chunk = '';
      for (let k = 0; k < LINES_PER_TICK; k++) {
        const seq = this.written.length;
        const line = `container=${i} seq=${seq} ${'p'.repeat(seq % 17)}`;
        const ts = new Date(this.t0 + seq);
        // The runtime splits long lines; every 40th stands for one here.
        chunk += seq % 40 === 0 ? criLine(ts, 'stdout', 'P', line.slice(0, 10)) + criLine(ts, 'stdout', 'F', line.slice(10)) : criLine(ts, 'stdout', 'F', line);
        this.written.push(line);
        log.live.push(line);
      }
      appendFileSync(log.path, chunk);
      if (log.rotateEvery > 0 && log.live.length >= log.rotateEvery) this.rotate(i);
    }
  }

  /** Kubelet's rotation: the live file is renamed, and the runtime writes a new one. */
  rotate(container: number): void {
    const log = this.logs[container]!;
    if (log.live.length === 0) return;
    const rotatedPath = `${log.path}.${++this.rotations}`;
    renameSync(log.path, rotatedPath);
    log.rotated.push({ path: rotatedPath, lines: log.live });
    log.live = [];
  }

  /** Kubelet keeps the newest two rotated files; older ones go, here only once every line of them was shipped. */
  deleteShipped(shipped: ReadonlySet<string>): void {
    for (const log of this.logs) {
      while (log.rotated.length > 2 && log.rotated[0]!.lines.every((l) => shipped.has(l))) unlinkSync(log.rotated.shift()!.path);
    }
  }
}

/** Lines the server acknowledged, and the pushes some of whose lines it acknowledged again later. */
class Acknowledged {
  readonly lines = new Set<string>();
  readonly pushesSentAgain = new Set<number>();
  private readonly firstPush = new Map<string, number>();
  private counted = 0;

  constructor(private readonly recorder: PushRecorder) {}

  update(): this {
    const pushes = this.recorder.acknowledged;
    for (; this.counted < pushes.length; this.counted++) {
      for (const line of pushes[this.counted]!) {
        const first = this.firstPush.get(line);
        if (first === undefined) this.firstPush.set(line, this.counted);
        else this.pushesSentAgain.add(first);
        this.lines.add(line);
      }
    }
    return this;
  }
}

describe('no line is lost', () => {
  let tree: PodsTree;
  let lokiDir: string;
  const programs = new Programs();
  let recorder: PushRecorder | undefined;
  let receiver: Receiver | undefined;
  beforeEach(() => {
    tree = podsTree();
    lokiDir = mkdtempSync(path.join(tmpdir(), 'agent-loss-loki-'));
  });
  afterEach(async () => {
    await programs.stopAll();
    await recorder?.close();
    recorder = undefined;
    await receiver?.stop();
    receiver = undefined;
    tree.remove();
    rmSync(lokiDir, { recursive: true, force: true });
  });

  it('in a crash storm: SIGKILLs of the agent, rotations while it is down, deleted files, a server outage', async () => {
    const lokiPort = await freePort();
    const agentPort = await freePort();
    const lokiUrl = `http://127.0.0.1:${lokiPort}`;
    const lokiConfig = path.join(lokiDir, 'loki.yaml');
    writeFileSync(
      lokiConfig,
      `
auth_enabled: false
server: {http_listen_address: 127.0.0.1, http_listen_port: ${lokiPort}, log_level: error}
common: {path_prefix: ${lokiDir}}
schema_config: {configs: [{from: "2020-01-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]}
limits_config: {reject_old_samples: false, max_query_length: 0, split_queries_by_interval: 0, discover_service_name: [], discover_log_levels: false,
  ingestion_rate_mb: 1024, ingestion_burst_size_mb: 1024}
`,
    );
    recorder = await startPushRecorder(lokiUrl);
    const agentConfig = path.join(tree.root, 'agent.yaml');
    // A long client timeout: a push answered late on a busy machine must not be sent again for that.
    writeFileSync(
      agentConfig,
      `
server: {http_listen_address: 127.0.0.1, http_listen_port: ${agentPort}, log_level: warn}
positions: {filename: ${path.join(tree.root, 'positions.yaml')}}
clients: [{url: ${recorder.pushUrl}, batchwait: 200ms, batchsize: 16KB, timeout: 1m, backoff_config: {min_period: 100ms, max_period: 500ms}}]
agent: {rescan_period: 200ms}
scrape_configs:
  - job_name: pods
    pipeline_stages: [{cri: {}}]
    static_configs: [{labels: {job: loss, __path__: "${tree.podsDir}/*/*/*.log"}}]
`,
    );
    const startLoki = () => programs.start(LOKI_BIN, [`-config.file=${lokiConfig}`], lokiUrl);
    const startAgent = () => programs.start(AGENT_BIN, [`-config.file=${agentConfig}`], `http://127.0.0.1:${agentPort}`);
    const acknowledged = new Acknowledged(recorder);
    const workload = new Workload(tree);
    const writeAndRotate = () => {
      workload.tick();
      workload.deleteShipped(acknowledged.update().lines);
    };

    let loki: Program | undefined = await startLoki();
    let agent: Program = await startAgent();
    const writer = setInterval(writeAndRotate, TICK_MS);
    let kills = 0;
    let outages = 0;
    try {
      for (let round = 0; round < KILLS; round++) {
        await sleep(400 + Math.random() * 600);
        await programs.stop(agent, 'SIGKILL');
        kills++;
        // While the agent is down, files are written and rotated, and some created and rotated.
        for (let k = 0; k < 2; k++) {
          writeAndRotate();
          workload.rotate(2);
        }
        if (OUTAGE_ROUNDS.has(round) && loki !== undefined) {
          await programs.stop(loki, 'SIGTERM');
          loki = undefined;
          outages++; // a push the server took but did not answer is sent again
        }
        agent = await startAgent();
        if (!OUTAGE_ROUNDS.has(round) && loki === undefined) loki = await startLoki();
      }
      loki ??= await startLoki();
    } finally {
      clearInterval(writer);
    }

    const written = workload.written;
    const missing = () => written.filter((l) => !acknowledged.update().lines.has(l));
    await eventually(() => missing().length === 0, 90_000);
    expect(missing().slice(0, 5), `${missing().length} of ${written.length} lines never acknowledged; agent log:\n${agent.stderr().slice(-3000)}`).toEqual([]);
    // Every line has a timestamp of its own (copies of it share it), so the paged query misses none.
    const stored = new Set((await queryEntries(lokiUrl, '{job="loss"}', workload.timeRange)).map((e) => e.line));
    expect(written.filter((l) => !stored.has(l)).slice(0, 5)).toEqual([]);
    expect(acknowledged.pushesSentAgain.size, `pushes sent again after ${kills} kills and ${outages} outage`).toBeLessThanOrEqual(kills + outages);
  }, 180_000);

  it('reads the rotated files a run began to read when that run was killed before it saved any position', async () => {
    // Nothing listens on the client's port while the first run is up: no batch is acknowledged, so that run
    // saves no position before it is killed (and no timer save either).
    const lokiPort = await freePort();
    const agentPort = await freePort();
    const agentUrl = `http://127.0.0.1:${agentPort}`;
    const agentConfig = path.join(tree.root, 'agent.yaml');
    writeFileSync(
      agentConfig,
      `
server: {http_listen_address: 127.0.0.1, http_listen_port: ${agentPort}, log_level: warn}
positions: {filename: ${path.join(tree.root, 'positions.yaml')}, sync_period: 1h}
clients: [{url: http://127.0.0.1:${lokiPort}/loki/api/v1/push, batchwait: 100ms, backoff_config: {min_period: 100ms, max_period: 500ms}}]
agent: {rescan_period: 200ms}
scrape_configs:
  - job_name: pods
    pipeline_stages: [{cri: {}}]
    static_configs: [{labels: {job: first-run, __path__: "${tree.podsDir}/*/*/*.log"}}]
`,
    );
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

    const loki = await startReceiver(lokiPort);
    receiver = loki; // stopped by afterEach
    await programs.start(AGENT_BIN, [`-config.file=${agentConfig}`], agentUrl);
    const shipped = async () => (await loki.lines('{job="first-run"}')).map((l) => l.line);
    await eventually(async () => (await shipped()).length >= 100);
    expect(await shipped()).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
  });
});
