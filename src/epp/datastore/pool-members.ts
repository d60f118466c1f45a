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

export function poolMembers(pool: InferencePool, pods: readonly Pod[]): PoolMember[] {
  return pods
    .filter((p) => selectsPod(pool, p))
    .map((pod) => {
      if (!pod.ready) return { pod, excluded: 'pod is not Ready' };
      if (!pod.podIP) return { pod, excluded: 'pod has no status.podIP' };
      return { pod };
    });
}
