/** InferenceObjective (inference.networking.x-k8s.io/v1alpha2): a request class's priority within a pool. */
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';
import { readPoolRef } from './pool-ref.js';

/** Requests name their objective with this header; the gateway looks it up in the pool's namespace. */
export const OBJECTIVE_HEADER = 'x-gateway-inference-objective';

export interface InferenceObjective extends Located {
  kind: 'InferenceObjective';
  /** Higher is more important; negative priorities are sheddable when the pool is saturated. Default 0. */
  priority: number;
  /** `namespace/name` of the InferencePool. */
  poolKey: string;
}

export function readInferenceObjective(r: FieldReader, raw: Record<string, Raw>, base: Located): InferenceObjective {
  const spec = r.object(raw.spec, 'spec', true) ?? {};
  return {
    ...base,
    kind: 'InferenceObjective',
    priority: r.integer(spec.priority, 'spec.priority', -1_000_000, 1_000_000) ?? 0,
    poolKey: readPoolRef(r, spec.poolRef, base.meta.namespace),
  };
}
