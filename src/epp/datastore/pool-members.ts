/** Which pods an InferencePool selects, and why a selected pod cannot serve (not Ready, no IP). */
import type { InferencePool } from '../../api/inference-pool.js';
import type { Pod } from '../../api/pod.js';

export interface PoolMember {
  pod: Pod;
  /** Set when the pod is selected but cannot receive traffic. */
  excluded?: string;
}

export function selectsPod(pool: InferencePool, pod: Pod): boolean {
  if (pod.meta.namespace !== pool.meta.namespace) return false;
  for (const [k, v] of Object.entries(pool.selector)) if (pod.meta.labels[k] !== v) return false;
  return true;
}

/**
 * Pods by `namespace` + `label=value`, so that each pool looks only at the pods carrying its rarest selector
 * label instead of at every pod: with P pools and N pods a snapshot costs O(N + matches), not O(P x N).
 */
export class PodIndex {
  readonly #byLabel = new Map<string, Pod[]>();
  readonly #all: readonly Pod[];

  constructor(pods: readonly Pod[]) {
    this.#all = pods;
    for (const pod of pods) {
      for (const [k, v] of Object.entries(pod.meta.labels)) {
        const key = labelKey(pod.meta.namespace, k, v);
        const list = this.#byLabel.get(key);
        if (list) list.push(pod);
        else this.#byLabel.set(key, [pod]);
      }
    }
  }

  /** The pods that could match `pool`: those with its selector label that fewest pods carry. */
  candidates(pool: InferencePool): readonly Pod[] {
    let best: readonly Pod[] | undefined;
    for (const [k, v] of Object.entries(pool.selector)) {
      const list = this.#byLabel.get(labelKey(pool.meta.namespace, k, v)) ?? [];
      if (!best || list.length < best.length) best = list;
    }
    // No selector labels (the reader refuses that; hand-built pools in tests may): every pod is a candidate.
    return best ?? this.#all;
  }
}

function labelKey(namespace: string, k: string, v: string): string {
  return `${namespace}\u0000${k}=${v}`;
}

/** The pool's members in pod order; `pods` may be a PodIndex to avoid scanning every pod per pool. */
export function poolMembers(pool: InferencePool, pods: readonly Pod[] | PodIndex): PoolMember[] {
  const candidates = pods instanceof PodIndex ? pods.candidates(pool) : pods;
  return candidates
    .filter((p) => selectsPod(pool, p))
    .map((pod) => {
      if (!pod.ready) return { pod, excluded: 'pod is not Ready' };
      if (!pod.podIP) return { pod, excluded: 'pod has no status.podIP' };
      return { pod };
    });
}
