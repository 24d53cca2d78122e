import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';

/*
 * A test HTTP server that speaks the Kubernetes API's list and watch protocol for pods (JSON list with a
 * resourceVersion; `?watch=true` streams one JSON event per line), so the real client library can talk to it.
 * The test adds, changes and deletes pods, and can break the open watches.
 */

export interface FakeKubeApi {
  readonly kubeConfig: KubeConfig;
  /** Every request's path and query, in order. */
  readonly requests: string[];
  add(pod: V1Pod): void;
  modify(pod: V1Pod): void;
  remove(uid: string): void;
  /** Cuts every open watch connection (as an API server restart or a proxy timeout would). */
  breakWatches(): void;
  close(): Promise<void>;
}

export async function startFakeKubeApi(initial: readonly V1Pod[]): Promise<FakeKubeApi> {
  let version = 1;
  const pods = new Map<string, V1Pod>();
  const history: Array<{ rv: number; type: string; pod: V1Pod }> = [];
  const watchers = new Set<{ res: http.ServerResponse; nodeName: string | undefined }>();
  const requests: string[] = [];

  const stamp = (pod: V1Pod): V1Pod => ({ ...pod, metadata: { ...pod.metadata, resourceVersion: String(++version) } });
  const onNode = (pod: V1Pod, nodeName: string | undefined) => nodeName === undefined || pod.spec?.nodeName === nodeName;
  const event = (type: string, pod: V1Pod) => {
    history.push({ rv: version, type, pod });
    for (const w of watchers) if (onNode(pod, w.nodeName)) w.res.write(`${JSON.stringify({ type, object: pod })}\n`);
  };
  for (const p of initial) pods.set(p.metadata!.uid!, stamp(p));

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${url.pathname}${url.search}`);
    const nodeName = /spec\.nodeName=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
    if (url.pathname !== '/api/v1/pods') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 404 }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') !== 'true') {
      res.end(
        JSON.stringify({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(version) },
          items: [...pods.values()].filter((p) => onNode(p, nodeName)),
        }),
      );
      return;
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    for (const h of history) if (h.rv > from && onNode(h.pod, nodeName)) res.write(`${JSON.stringify({ type: h.type, object: h.pod })}\n`);
    const watcher = { res, nodeName };
    watchers.add(watcher);
    res.on('close', () => watchers.delete(watcher));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'test' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  return {
    kubeConfig,
    requests,
    add(pod) {
      const p = stamp(pod);
      pods.set(p.metadata!.uid!, p);
      event('ADDED', p);
    },
    modify(pod) {
      const p = stamp(pod);
      pods.set(p.metadata!.uid!, p);
      event('MODIFIED', p);
    },
    remove(uid) {
      const p = pods.get(uid);
      if (!p) return;
      pods.delete(uid);
      event('DELETED', stamp(p));
    },
    breakWatches() {
      for (const w of watchers) w.res.socket?.destroy();
      watchers.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const w of watchers) w.res.socket?.destroy();
        server.close(() => r());
      }),
  };
}

/** A running pod on `node` with one container. */
export function testPod(name: string, uid: string, node: string, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'ml',
      uid,
      labels,
      annotations: { 'example.com/team': 'research' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: name.replace(/-\d+$/, ''), uid: 'o1', controller: true }],
    },
    spec: { nodeName: node, containers: [{ name: 'trainer', image: 'pytorch:2' }] },
    status: {
      phase: 'Running',
      podIP: '10.0.0.5',
      hostIP: '10.0.1.1',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'trainer', containerID: 'containerd://c0ffee', image: 'pytorch:2', imageID: '', ready: true, restartCount: 0 }],
    },
  } as V1Pod;
}
