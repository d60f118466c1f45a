/** InferenceObjective (llm-d.ai/v1alpha2, or GIE's inference.networking.x-k8s.io/v1alpha2): a request class's priority within a pool. */
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';
import { readPoolRef } from './pool-ref.js';

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

export interface InferenceObjective extends Located {
  kind: 'InferenceObjective';
  /** `llm-d.ai` or the legacy `inference.networking.x-k8s.io`: where both name objectives for a pool, llm-d's win. */
  group: string;
  /** Higher is more important; negative priorities are sheddable when the pool is saturated. Default 0. */
  priority: number;
  /** `namespace/name` of the InferencePool. */
  poolKey: string;
}

export function readInferenceObjective(r: FieldReader, raw: Record<string, Raw>, base: Located, group: string): InferenceObjective {
  const spec = r.object(raw.spec, 'spec', true) ?? {};
  r.unknownKeys(spec, 'spec', ['priority', 'poolRef']);
  return {
    ...base,
    kind: 'InferenceObjective',
    group,
    // The CRD's priority is any int32 (llm-d apix/v1alpha2, GIE's before it): a narrower range dropped valid objectives.
    priority: r.integer(spec.priority, 'spec.priority', INT32_MIN, INT32_MAX) ?? 0,
    poolKey: readPoolRef(r, spec.poolRef, base.meta.namespace),
  };
}
