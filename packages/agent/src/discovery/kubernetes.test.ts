import { silentLogger } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../testing/pods-tree.js';
import { type FakeKubeApi, startFakeKubeApi, testPod } from '../testing/kube-api.js';
import { KubernetesDiscovery } from './kubernetes.js';

let api: FakeKubeApi | undefined;
let discovery: KubernetesDiscovery | undefined;

afterEach(async () => {
  discovery?.stop();
  await api?.close();
});

const sdConfig = { role: 'pod' as const, api_server: '', kubeconfig_file: '', namespaces: { names: [], own_namespace: false }, selectors: [] };

describe('Kubernetes pod discovery against a list/watch API server', () => {
  it("watches this node's pods, follows changes, resumes a broken watch, and keeps a deleted pod for a while", async () => {
    api = await startFakeKubeApi([testPod('llama-0', 'uid-a', 'node-a', { 'app.kubernetes.io/name': 'llama' }), testPod('other-0', 'uid-b', 'node-b')]);
    let current: ReadonlyArray<ReadonlyMap<string, string>> = [];
    const pods = () => current.map((l) => l.get('__meta_kubernetes_pod_name')).sort();
    discovery = new KubernetesDiscovery({
      config: sdConfig,
      nodeName: 'node-a',
      retentionMs: 400,
      log: silentLogger,
      kubeConfig: api.kubeConfig,
      retryMs: 100,
      onChange: (sets) => (current = sets),
    });
    await discovery.start();

    expect(pods()).toEqual(['llama-0']);
    expect(Object.fromEntries(current[0]!)).toEqual({
      __address__: '10.0.0.5',
      __meta_kubernetes_namespace: 'ml',
      __meta_kubernetes_pod_name: 'llama-0',
      __meta_kubernetes_pod_uid: 'uid-a',
      __meta_kubernetes_pod_ip: '10.0.0.5',
      __meta_kubernetes_pod_node_name: 'node-a',
      __meta_kubernetes_pod_host_ip: '10.0.1.1',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'llama',
      __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
      __meta_kubernetes_pod_annotation_example_com_team: 'research',
      __meta_kubernetes_pod_annotationpresent_example_com_team: 'true',
      __meta_kubernetes_pod_controller_kind: 'StatefulSet',
      __meta_kubernetes_pod_controller_name: 'llama',
      __meta_kubernetes_pod_container_name: 'trainer',
      __meta_kubernetes_pod_container_image: 'pytorch:2',
      __meta_kubernetes_pod_container_init: 'false',
      __meta_kubernetes_pod_container_id: 'containerd://c0ffee',
    });
    // One list and one watch, both for this node only.
    expect(api.requests.every((r) => r.includes('fieldSelector=spec.nodeName%3Dnode-a'))).toBe(true);

    api.add(testPod('llama-1', 'uid-c', 'node-a'));
    api.add(testPod('elsewhere-1', 'uid-d', 'node-b'));
    expect(await eventually(() => pods().length === 2, 5000)).toBe(true);
    expect(pods()).toEqual(['llama-0', 'llama-1']);

    const before = api.requests.length;
    api.breakWatches();
    api.add(testPod('llama-2', 'uid-e', 'node-a'));
    expect(await eventually(() => pods().includes('llama-2'), 5000)).toBe(true);
    // Resumed from the last resourceVersion it saw, without listing again.
    const after = api.requests.slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.includes('watch=true') && /resourceVersion=\d+/.test(r))).toBe(true);

    api.remove('uid-a');
    await new Promise((r) => setTimeout(r, 150));
    expect(pods()).toContain('llama-0');
    expect(await eventually(() => !pods().includes('llama-0'), 5000)).toBe(true);
    expect(pods()).toEqual(['llama-1', 'llama-2']);
  });
});
