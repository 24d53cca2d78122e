import { renameSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '@loki-lite/shared';
import { startAgent, type RunningAgent } from './agent.js';
import { parseConfig } from './config/load.js';
import { startFakeKubeApi, testPod } from './testing/kube-api.js';
import { append, criLine, dockerLine, eventually, podsTree, type PodsTree } from './testing/pods-tree.js';
import { type Receiver, startReceiver } from './testing/receiver.js';

let tree: PodsTree;
let receiver: Receiver;
let agent: RunningAgent | undefined;

beforeEach(async () => {
  tree = podsTree();
  receiver = await startReceiver();
});

afterEach(async () => {
  await agent?.stop(1000);
  agent = undefined;
  await receiver.stop();
  tree.remove();
});

/** A static-target agent over the tree (the /var/log/pods layout gives namespace, pod and container). */
async function startStaticAgent(extraStages = '', extraAgentSettings = ''): Promise<RunningAgent> {
  const { config } = parseConfig(`
server: {http_listen_address: 127.0.0.1, http_listen_port: 0}
positions: {filename: ${path.join(tree.root, 'positions.yaml')}}
clients: [{url: ${receiver.pushUrl}, batchwait: 100ms}]
agent: {rescan_period: 200ms, partial_line_timeout: 1s${extraAgentSettings}}
scrape_configs:
  - job_name: pods
    pipeline_stages: [{cri: {}}, {static_labels: {cluster: test}}${extraStages}]
    static_configs: [{labels: {job: pods, __path__: "${tree.podsDir}/*/*/*.log"}}]
`);
  return startAgent(config, { nodeName: 'node-a', version: 'test' });
}

async function sentEntries(a: RunningAgent): Promise<number> {
  return (await a.metrics.sentEntries.get()).values.reduce((n, v) => n + v.value, 0);
}

const texts = async (selector: string) => (await receiver.lines(selector)).map((l) => l.line);

describe('agent shipping a pods folder into loki-lite', () => {
  it('ships CRI and docker lines with their timestamps, stream label, path labels and static labels', async () => {
    const cri = path.join(tree.containerDir('train', 'trainer-0', 'u1', 'main'), '0.log');
    const docker = path.join(tree.containerDir('train', 'loader-0', 'u2', 'main'), '0.log');
    append(cri, criLine('2025-06-01T10:00:00.123456789Z', 'stdout', 'F', 'step=1 loss=0.5'));
    append(cri, criLine('2025-06-01T10:00:01.000000001+01:00', 'stderr', 'F', 'warning: slow'));
    append(docker, dockerLine(new Date('2025-06-01T10:00:02Z'), 'stdout', 'loaded shard 3\n'));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{job="pods"}')).length === 3)).toBe(true);
    const lines = await receiver.lines('{job="pods"}');
    expect(lines.map((l) => [l.ts, l.line, l.labels.stream, l.labels.pod])).toEqual(
      [
        ['1748768401000000001', 'warning: slow', 'stderr', 'trainer-0'],
        ['1748772000123456789', 'step=1 loss=0.5', 'stdout', 'trainer-0'],
        ['1748772002000123456', 'loaded shard 3', 'stdout', 'loader-0'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    expect(lines[0]!.labels).toEqual({
      job: 'pods',
      cluster: 'test',
      namespace: 'train',
      pod: 'trainer-0',
      container: 'main',
      stream: 'stderr',
      filename: cri,
    });
  });

  it('joins CRI partial lines and docker 16 KiB splits per stream', async () => {
    const cri = path.join(tree.containerDir('ns', 'p', 'u1', 'c'), '0.log');
    const docker = path.join(tree.containerDir('ns', 'd', 'u2', 'c'), '0.log');
    const t = new Date('2025-06-01T10:00:00Z');
    append(cri, criLine(t, 'stdout', 'P', 'first half '));
    append(cri, criLine(t, 'stderr', 'F', 'interleaved error'));
    append(cri, criLine(t, 'stdout', 'P', 'and '));
    append(cri, criLine(t, 'stdout', 'F', 'second half'));
    append(docker, dockerLine(t, 'stdout', 'x'.repeat(16384)) + dockerLine(t, 'stdout', 'tail\n'));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{namespace="ns"}')).length === 3)).toBe(true);
    expect(await texts('{pod="p", stream="stdout"}')).toEqual(['first half and second half']);
    expect(await texts('{pod="p", stream="stderr"}')).toEqual(['interleaved error']);
    expect(await texts('{pod="d"}')).toEqual([`${'x'.repeat(16384)}tail`]);
  });

  it('reads a line longer than the read buffer whole, while other files are read too', async () => {
    const long = path.join(tree.containerDir('ns', 'long', 'u1', 'c'), '0.log');
    const busy = path.join(tree.containerDir('ns', 'busy', 'u2', 'c'), '0.log');
    const t = new Date('2025-06-01T10:00:00Z');
    const big = `${'0123456789'.repeat(60_000)} end`; // 600 KB: more than two 256 KB reads
    append(long, criLine(t, 'stdout', 'F', big) + criLine(t, 'stdout', 'F', 'after it'));
    append(busy, Array.from({ length: 2000 }, (_, i) => criLine(t, 'stdout', 'F', `busy ${i}`)).join(''));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{pod="long"}')).length === 2 && (await texts('{pod="busy"}')).length === 2000)).toBe(true);
    expect(await texts('{pod="long"}')).toEqual([big, 'after it']);
  });

  it('emits a partial line whose end never comes after the timeout', async () => {
    const cri = path.join(tree.containerDir('ns', 'p', 'u1', 'c'), '0.log');
    append(cri, criLine(new Date(), 'stdout', 'P', 'cut short'));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 1)).toBe(true);
    expect(await texts('{pod="p"}')).toEqual(['cut short']);
  });

  it('reads a rotated file to its end, then the new file (kubelet rotation), and a copytruncated one again from the start', async () => {
    const dir = tree.containerDir('ns', 'p', 'u1', 'c');
    const file = path.join(dir, '0.log');
    const t0 = Date.parse('2025-06-01T10:00:00Z');
    const line = (i: number) => criLine(new Date(t0 + i), 'stdout', 'F', `line ${i}`);
    append(file, line(0));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 1)).toBe(true);
    // Written, then renamed away in the same instant: the agent must still read lines 1-2 from the old file.
    append(file, line(1) + line(2));
    renameSync(file, path.join(dir, '0.log.20261125-100000'));
    append(file, line(3));
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 4)).toBe(true);
    // copytruncate: the content is copied elsewhere and the file emptied in place, then written again.
    await new Promise((r) => setTimeout(r, 500));
    truncateSync(file, 0);
    append(file, line(4));
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 5)).toBe(true);
    expect(await texts('{pod="p"}')).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('reads rotated files when no live file is left beside them, also across a restart', async () => {
    const t0 = Date.parse('2025-06-01T10:00:00Z');
    const line = (i: number) => criLine(new Date(t0 + i), 'stdout', 'F', `line ${i}`);
    const restarted = path.join(tree.containerDir('ns', 'restarted', 'u1', 'c'), '0.log');
    append(restarted, line(0));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{pod="restarted"}')).length === 1)).toBe(true);
    await agent.stop(1000);
    // While the agent is down the file gets more lines and is rotated; the container then stops, so no new 0.log.
    append(restarted, line(1) + line(2));
    renameSync(restarted, `${restarted}.20261201-100000`);
    agent = await startStaticAgent();
    // A pod whose only file is written and rotated between two scans.
    const once = path.join(tree.containerDir('ns', 'once', 'u2', 'c'), '0.log');
    append(once, line(3));
    renameSync(once, `${once}.20261201-100001`);
    expect(await eventually(async () => (await texts('{namespace="ns"}')).length === 4)).toBe(true);
    expect(await texts('{pod="restarted"}')).toEqual(['line 0', 'line 1', 'line 2']);
    expect(await texts('{pod="once"}')).toEqual(['line 3']);
  });

  it('reads a rotated file from its start when its inode is saved for a file deleted since', async () => {
    // Filesystems hand a deleted file's inode to the next file created. Below is the positions file a run
    // leaves when it read a file that was then deleted while the agent was down, and whose inode went to
    // this rotated file: its device and inode match, its first bytes do not.
    const dir = tree.containerDir('ns', 'p', 'u1', 'c');
    const rotated = path.join(dir, '0.log.20261201-100000');
    const t0 = Date.parse('2025-06-01T10:00:00Z');
    for (let i = 0; i < 50; i++) append(rotated, criLine(new Date(t0 + i), 'stdout', 'F', `line ${i}`));
    const st = statSync(rotated);
    const deletedHead = Buffer.from(criLine(new Date(t0 - 60_000), 'stdout', 'F', 'a line of the deleted file')).subarray(0, 64);
    writeFileSync(
      path.join(tree.root, 'positions.yaml'),
      `files:
  - {path: ${path.join(dir, '0.log')}, dev: ${st.dev}, ino: ${st.ino}, fingerprint: ${deletedHead.toString('hex')}, offset: ${st.size - 100}}
scanned_at: ${Math.floor(st.mtimeMs)}
`,
    );
    agent = await startStaticAgent();
    await eventually(async () => (await texts('{pod="p"}')).length >= 50);
    expect(await texts('{pod="p"}')).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
  });

  it('reads a file found but not opened yet (max_open_files) when it is rotated while the agent is down, however old', async () => {
    const t0 = Date.parse('2025-06-01T10:00:00Z');
    const files = ['a', 'b'].map((pod) => path.join(tree.containerDir('ns', pod, `u-${pod}`, 'c'), '0.log'));
    for (const [k, file] of files.entries()) for (let i = 0; i < 10; i++) append(file, criLine(new Date(t0 + k * 10 + i), 'stdout', 'F', `line ${k * 10 + i}`));
    agent = await startStaticAgent('', ', max_open_files: 1');
    // One file is open and read; the other waits for a free descriptor.
    expect(await eventually(async () => (await texts('{namespace="ns"}')).length === 10)).toBe(true);
    await agent.stop(1000);
    // Both rotated while the agent is down, written last an hour ago (a container quiet since).
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const file of files) {
      renameSync(file, `${file}.20250601-100000`);
      utimesSync(`${file}.20250601-100000`, hourAgo, hourAgo);
    }
    agent = await startStaticAgent('', ', max_open_files: 1');
    await eventually(async () => (await texts('{namespace="ns"}')).length >= 20);
    expect(await texts('{namespace="ns"}')).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i}`));
  });

  it('finds a pod that appears later, and reads a deleted file to its end', async () => {
    agent = await startStaticAgent();
    const file = path.join(tree.containerDir('ns', 'late', 'u9', 'c'), '0.log');
    const t = new Date('2025-06-01T10:00:00Z');
    append(file, criLine(t, 'stdout', 'F', 'hello from a new pod'));
    expect(await eventually(async () => (await texts('{pod="late"}')).length === 1)).toBe(true);
    append(file, criLine(t, 'stdout', 'F', 'last words'));
    unlinkSync(file);
    expect(await eventually(async () => (await texts('{pod="late"}')).length === 2)).toBe(true);
  });

  it('applies per-line stages: logfmt into labels, output, drop', async () => {
    const file = path.join(tree.containerDir('ns', 'p', 'u1', 'c'), '0.log');
    const t = new Date('2025-06-01T10:00:00Z');
    append(file, criLine(t, 'stdout', 'F', 'level=info msg="step done"'));
    append(file, criLine(t, 'stdout', 'F', 'level=debug msg="noise"'));
    agent = await startStaticAgent(
      `, {logfmt: {mapping: {level: "", msg: ""}}}, {labels: {level: ""}}, {drop: {source: level, value: debug}}, {output: {source: msg}}`,
    );
    expect(await eventually(async () => (await texts('{namespace="ns"}')).length === 1)).toBe(true);
    const [entry] = await receiver.lines('{namespace="ns"}');
    expect(entry!.line).toBe('step done');
    expect(entry!.labels.level).toBe('info');
  });

  it('drops the stream label, or keeps only some labels, with labeldrop and labelallow', async () => {
    const file = path.join(tree.containerDir('ns', 'p', 'u1', 'c'), '0.log');
    append(file, criLine(new Date('2025-06-01T10:00:00Z'), 'stdout', 'F', 'hello'));
    agent = await startStaticAgent(', {labeldrop: [stream, filename]}');
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 1)).toBe(true);
    expect((await receiver.lines('{pod="p"}'))[0]!.labels).toEqual({ job: 'pods', cluster: 'test', namespace: 'ns', pod: 'p', container: 'c' });
    await agent.stop(1000);
    // labelallow after a per-line stage: the label stages then run per line, in order.
    append(file, criLine(new Date('2025-06-01T10:00:01Z'), 'stdout', 'F', 'level=warn again'));
    agent = await startStaticAgent(', {logfmt: {mapping: {level: ""}}}, {labels: {level: ""}}, {labelallow: [pod, level]}');
    expect(await eventually(async () => (await texts('{level="warn"}')).length === 1)).toBe(true);
    expect((await receiver.lines('{level="warn"}'))[0]!.labels).toEqual({ pod: 'p', level: 'warn' });
  });

  it('resumes from the positions file after a restart without sending a line twice', async () => {
    const file = path.join(tree.containerDir('ns', 'p', 'u1', 'c'), '0.log');
    const t0 = Date.parse('2025-06-01T10:00:00Z');
    for (let i = 0; i < 100; i++) append(file, criLine(new Date(t0 + i), 'stdout', 'F', `line ${i}`));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 100)).toBe(true);
    await agent.stop(1000);
    for (let i = 100; i < 150; i++) append(file, criLine(new Date(t0 + i), 'stdout', 'F', `line ${i}`));
    agent = await startStaticAgent();
    expect(await eventually(async () => (await texts('{pod="p"}')).length >= 150)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    const lines = await receiver.lines('{pod="p"}');
    expect(lines.map((l) => l.line)).toEqual(Array.from({ length: 150 }, (_, i) => `line ${i}`));
    // The querier hides exact duplicates, so count what the restarted agent sent: only the new lines.
    expect(await sentEntries(agent)).toBe(50);
  });

  it("labels the lines of this node's pods from the Kubernetes API, also a deleted pod's last lines", async () => {
    const api = await startFakeKubeApi([testPod('llama-0', 'uid-a', 'node-a', { 'app.kubernetes.io/name': 'llama' })]);
    try {
      const { config } = parseConfig(`
server: {disable: true}
positions: {filename: ${path.join(tree.root, 'positions.yaml')}}
clients: [{url: ${receiver.pushUrl}, batchwait: 100ms}]
agent: {rescan_period: 200ms, deleted_pod_retention: 2s}
scrape_configs:
  - job_name: pod_logs
    kubernetes_sd_configs: [{role: pod}]
    pipeline_stages: [{cri: {}}]
    relabel_configs:
      - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
      - {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
      - {source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name], target_label: app}
      - {source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_container_name], separator: /, target_label: job}
      - {source_labels: [__meta_kubernetes_pod_uid, __meta_kubernetes_pod_container_name], separator: /, replacement: "${tree.podsDir}/*$1/*.log", target_label: __path__}
      - {source_labels: [__meta_kubernetes_pod_container_id], regex: '^(\\w+):\\/\\/.+$', replacement: $1, target_label: container_runtime}
`);
      agent = await startAgent(config, { nodeName: 'node-a', version: 'test', kubeConfig: api.kubeConfig });
      const t = new Date(Date.now() - 60_000);
      const file = path.join(tree.containerDir('ml', 'llama-0', 'uid-a', 'trainer'), '0.log');
      append(file, criLine(t, 'stdout', 'F', 'epoch 1'));
      expect(await eventually(async () => (await texts('{job="ml/trainer"}')).length === 1)).toBe(true);
      const [first] = await receiver.lines('{job="ml/trainer"}');
      expect(first!.labels).toEqual({
        namespace: 'ml',
        pod: 'llama-0',
        container: 'trainer',
        app: 'llama',
        job: 'ml/trainer',
        container_runtime: 'containerd',
        stream: 'stdout',
        filename: file,
      });
      api.remove('uid-a');
      append(file, criLine(t, 'stdout', 'F', 'shutting down'));
      expect(await eventually(async () => (await texts('{pod="llama-0", app="llama"}')).length === 2)).toBe(true);
    } finally {
      await agent?.stop(1000);
      agent = undefined;
      await api.close();
    }
  });

  it('pauses reading while the server is away, and gives up unread bytes of deleted files beyond the bound', async () => {
    const { config } = parseConfig(`
server: {disable: true}
positions: {filename: ${path.join(tree.root, 'positions.yaml')}}
clients: [{url: "http://127.0.0.1:1/loki/api/v1/push", backoff_config: {min_period: 50ms, max_period: 100ms}}]
agent: {rescan_period: 200ms, max_queued_bytes: 1KB, max_unread_deleted_bytes: 64KB}
scrape_configs:
  - job_name: pods
    pipeline_stages: [{cri: {}}]
    static_configs: [{labels: {job: pods, __path__: "${tree.podsDir}/*/*/*.log"}}]
`);
    const deleted = path.join(tree.containerDir('ns', 'p', 'u1', 'c'), '0.log');
    const rotated = path.join(tree.containerDir('ns', 'q', 'u2', 'c'), '0.log');
    const t = new Date(Date.now() - 60_000);
    const content = Array.from({ length: 20_000 }, (_, i) => criLine(t, 'stdout', 'F', `line ${i} ${'x'.repeat(60)}`)).join('');
    append(deleted, content);
    append(rotated, content);
    agent = await startAgent(config, { nodeName: 'node-a', version: 'test' });
    const value = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) => (await m.get()).values.reduce((n, v) => n + v.value, 0);
    expect(await eventually(async () => (await value(agent!.metrics.readBytes)) > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    // One chunk was read, then reading stopped: the queue bound holds the rest on disk.
    const read = await value(agent.metrics.readBytes);
    expect(read).toBeLessThan(300 * 1024);
    // A rotated file is still on disk: its unread bytes are kept however many they are. A deleted one's go.
    renameSync(rotated, `${rotated}.20261201-100000`);
    unlinkSync(deleted);
    expect(await eventually(async () => (await value(agent!.metrics.unreadDroppedBytes)) > 0)).toBe(true);
    expect(await eventually(async () => (await value(agent!.metrics.filesActive)) === 1)).toBe(true);
    const dropped = await value(agent.metrics.unreadDroppedBytes);
    expect(dropped).toBeGreaterThan(content.length - 300 * 1024);
    expect(dropped).toBeLessThanOrEqual(content.length);
  });

  it('keeps shipping to one endpoint while another is down, also across a restart, and the other catches up when it is back', async () => {
    const downPort = await freePort();
    const { config } = parseConfig(`
server: {disable: true}
positions: {filename: ${path.join(tree.root, 'positions.yaml')}}
clients:
  - {url: "http://127.0.0.1:${downPort}/loki/api/v1/push", batchwait: 100ms, batchsize: 4KB, backoff_config: {min_period: 50ms, max_period: 200ms}}
  - {url: ${receiver.pushUrl}, batchwait: 100ms, batchsize: 4KB}
agent: {rescan_period: 200ms, max_queued_bytes: 2KB}
scrape_configs:
  - job_name: pods
    pipeline_stages: [{cri: {}}]
    static_configs: [{labels: {job: pods, __path__: "${tree.podsDir}/*/*/*.log"}}]
`);
    const file = path.join(tree.containerDir('ns', 'p', 'u1', 'c'), '0.log');
    const t0 = Date.parse('2025-06-01T10:00:00Z');
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    append(file, lines.map((l, i) => criLine(new Date(t0 + i), 'stdout', 'F', l)).join(''));
    agent = await startAgent(config, { nodeName: 'node-a', version: 'test' });
    // 150 KB of lines against a 2 KB queue bound: the live endpoint gets them all although the other takes none.
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 3000)).toBe(true);
    expect(await texts('{pod="p"}')).toEqual(lines);
    // A restart while it is still down: each client resumes from its own position, so the live one is not
    // sent its lines again.
    await agent.stop(1000);
    append(file, criLine(new Date(t0 + 3000), 'stdout', 'F', 'after the restart'));
    agent = await startAgent(config, { nodeName: 'node-a', version: 'test' });
    expect(await eventually(async () => (await texts('{pod="p"}')).length === 3001)).toBe(true);
    const sentByHost = async () => (await agent!.metrics.sentEntries.get()).values.map((v) => [v.labels.host, v.value]);
    expect(await sentByHost()).toEqual([[new URL(receiver.pushUrl).host, 1]]);
    lines.push('after the restart');
    const late = await startReceiver(downPort);
    try {
      expect(await eventually(async () => (await late.lines('{pod="p"}')).length === 3001)).toBe(true);
      expect((await late.lines('{pod="p"}')).map((l) => l.line)).toEqual(lines);
    } finally {
      await agent.stop(1000);
      agent = undefined;
      await late.stop();
    }
  });
});
