import type { CompiledPipeline } from '../pipeline/pipeline.js';

/** A set of files to tail with the labels their entries get: one discovered target after relabeling. */
export interface Target {
  /** Identifies the target across discovery updates (job and labels). */
  readonly key: string;
  readonly job: string;
  /** `__path__`: a glob. */
  readonly pathGlob: string;
  /** The target's labels after relabeling, without `__`-prefixed ones. */
  readonly labels: ReadonlyMap<string, string>;
  readonly pipeline: CompiledPipeline;
  /** Labels a file's own path gives (static targets read the /var/log/pods layout); none for Kubernetes ones. */
  labelsFromPath(path: string): ReadonlyMap<string, string>;
}

const NO_LABELS: ReadonlyMap<string, string> = new Map();

/**
 * Labels in a kubelet pod log path, `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log`, for
 * running outside Kubernetes with static targets.
 */
export function podLogPathLabels(path: string): ReadonlyMap<string, string> {
  const m = /\/pods\/([^/_]+)_([^/_]+)_([^/_]+)\/([^/]+)\/[^/]+$/.exec(path);
  if (!m) return NO_LABELS;
  return new Map([
    ['namespace', m[1]!],
    ['pod', m[2]!],
    ['container', m[4]!],
  ]);
}

export const noPathLabels = (): ReadonlyMap<string, string> => NO_LABELS;
