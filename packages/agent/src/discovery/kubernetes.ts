import { CoreV1Api, KubeConfig, ListWatch, type V1Pod, type V1PodList, Watch } from '@kubernetes/client-node';
import type { Logger } from '@loki-lite/shared';
import type { KubernetesSdConfig } from '../config/schema.js';

/*
 * Kubernetes pod discovery (Prometheus' `role: pod`): one list-and-watch of the pods on this node
 * (fieldSelector spec.nodeName=<node>) per namespace set, through @kubernetes/client-node's ListWatch, which
 * lists, then watches from the list's resourceVersion and resumes a watch the server ends. A watch that
 * fails is started again after a pause. Each container of each pod becomes one label set with Prometheus'
 * `__meta_kubernetes_*` labels. A deleted pod's label sets are kept for `retentionMs`, so the last lines of
 * its files, read after the deletion, still get its labels.
 */

export interface KubernetesDiscoveryOptions {
  readonly config: KubernetesSdConfig;
  readonly nodeName: string;
  readonly retentionMs: number;
  readonly log: Logger;
  /** Called with every current label set after each change. */
  readonly onChange: (labelSets: ReadonlyArray<ReadonlyMap<string, string>>) => void;
  /** A KubeConfig to use instead of the one the config names (tests). */
  readonly kubeConfig?: KubeConfig;
  /** Pause before watching again after a failure (default 2 s). */
  readonly retryMs?: number;
}

export class KubernetesDiscovery {
  private readonly pods = new Map<string, V1Pod>();
  private readonly deleted = new Map<string, NodeJS.Timeout>();
  private readonly watches: ListWatch<V1Pod>[] = [];
  private stopped = false;
  private retryTimers = new Set<NodeJS.Timeout>();
  private synced = false;

  constructor(private readonly opts: KubernetesDiscoveryOptions) {}

  /** Starts watching; resolves after the first list (or its failure, which is retried). */
  async start(): Promise<void> {
    const kc = this.opts.kubeConfig ?? loadKubeConfig(this.opts.config);
    const api = kc.makeApiClient(CoreV1Api);
    const fieldSelector = [this.opts.nodeName ? `spec.nodeName=${this.opts.nodeName}` : '', ...this.opts.config.selectors.map((s) => s.field)]
      .filter((s) => s !== '')
      .join(',');
    const labelSelector =
      this.opts.config.selectors
        .map((s) => s.label)
        .filter((s) => s !== '')
        .join(',') || undefined;
    const namespaces = this.opts.config.namespaces.names;
    const scopes: Array<string | undefined> = namespaces.length > 0 ? namespaces : [undefined];
    const firstLists: Promise<void>[] = [];
    for (const namespace of scopes) {
      const path = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods` : '/api/v1/pods';
      let listed!: () => void;
      firstLists.push(new Promise<void>((r) => (listed = r)));
      const list = async (): Promise<V1PodList> => {
        try {
          return namespace
            ? await api.listNamespacedPod({ namespace, fieldSelector: fieldSelector || undefined, labelSelector })
            : await api.listPodForAllNamespaces({ fieldSelector: fieldSelector || undefined, labelSelector });
        } finally {
          // ListWatch applies the list right after this promise settles; publish after that.
          setImmediate(listed);
        }
      };
      const lw = new ListWatch<V1Pod>(path, new Watch(kc), list, false, labelSelector, fieldSelector || undefined);
      lw.on('add', (pod) => this.upsert(pod));
      lw.on('update', (pod) => this.upsert(pod));
      lw.on('delete', (pod) => this.remove(pod));
      lw.on('error', (err) => {
        if (this.stopped) return;
        const retryMs = this.opts.retryMs ?? 2000;
        this.opts.log.warn(`kubernetes discovery: ${describe(err)}; watching again in ${retryMs} ms`);
        const t = setTimeout(() => {
          this.retryTimers.delete(t);
          if (!this.stopped) void lw.start().catch(() => {});
        }, retryMs);
        this.retryTimers.add(t);
      });
      this.watches.push(lw);
      void lw.start().catch(() => {});
    }
    await Promise.all(firstLists);
    this.synced = true;
    this.publish();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) void w.stop();
    for (const t of this.retryTimers) clearTimeout(t);
    for (const t of this.deleted.values()) clearTimeout(t);
  }

  private upsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const pending = this.deleted.get(uid);
    if (pending) {
      clearTimeout(pending);
      this.deleted.delete(uid);
    }
    this.pods.set(uid, pod);
    this.publish();
  }

  private remove(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.deleted.has(uid)) return;
    const t = setTimeout(() => {
      this.deleted.delete(uid);
      this.pods.delete(uid);
      this.publish();
    }, this.opts.retentionMs);
    t.unref();
    this.deleted.set(uid, t);
  }

  private publish(): void {
    if (!this.synced) return;
    this.opts.onChange([...this.pods.values()].flatMap(podLabelSets));
  }
}

function loadKubeConfig(config: KubernetesSdConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig_file) kc.loadFromFile(config.kubeconfig_file);
  else if (config.api_server) {
    kc.loadFromOptions({
      clusters: [{ name: 'api', server: config.api_server, skipTLSVerify: false }],
      users: [{ name: 'agent' }],
      contexts: [{ name: 'api', cluster: 'api', user: 'agent' }],
      currentContext: 'api',
    });
  } else kc.loadFromDefault(); // in a pod: the service account; elsewhere: $KUBECONFIG or ~/.kube/config
  return kc;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String((err as { message?: string })?.message ?? err);
}

/** Prometheus' label name sanitizing: anything but [a-zA-Z0-9_] becomes `_`. */
function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** One label set per container (init containers included), as Prometheus' pod role builds them. */
export function podLabelSets(pod: V1Pod): Array<Map<string, string>> {
  const meta = pod.metadata ?? {};
  const common = new Map<string, string>([
    ['__meta_kubernetes_namespace', meta.namespace ?? ''],
    ['__meta_kubernetes_pod_name', meta.name ?? ''],
    ['__meta_kubernetes_pod_uid', meta.uid ?? ''],
    ['__meta_kubernetes_pod_ip', pod.status?.podIP ?? ''],
    ['__meta_kubernetes_pod_node_name', pod.spec?.nodeName ?? ''],
    ['__meta_kubernetes_pod_host_ip', pod.status?.hostIP ?? ''],
    ['__meta_kubernetes_pod_phase', pod.status?.phase ?? ''],
    ['__meta_kubernetes_pod_ready', String(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)],
  ]);
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    common.set(`__meta_kubernetes_pod_label_${sanitize(k)}`, v);
    common.set(`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`, 'true');
  }
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    common.set(`__meta_kubernetes_pod_annotation_${sanitize(k)}`, v);
    common.set(`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`, 'true');
  }
  const controller = meta.ownerReferences?.find((o) => o.controller);
  if (controller) {
    common.set('__meta_kubernetes_pod_controller_kind', controller.kind);
    common.set('__meta_kubernetes_pod_controller_name', controller.name);
  }
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const containers = [...(pod.spec?.containers ?? []).map((c) => ({ c, init: false })), ...(pod.spec?.initContainers ?? []).map((c) => ({ c, init: true }))];
  return containers.map(({ c, init }) => {
    const labels = new Map(common);
    labels.set('__address__', pod.status?.podIP ?? '');
    labels.set('__meta_kubernetes_pod_container_name', c.name);
    labels.set('__meta_kubernetes_pod_container_image', c.image ?? '');
    labels.set('__meta_kubernetes_pod_container_init', String(init));
    labels.set('__meta_kubernetes_pod_container_id', statuses.find((s) => s.name === c.name)?.containerID ?? '');
    return labels;
  });
}
