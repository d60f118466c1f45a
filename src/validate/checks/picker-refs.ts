/**
 * With `--kube`: an InferencePool whose `spec.endpointPickerRef` cannot be resolved (a Service that does not
 * exist, an ExternalName Service, another kind), which `serve --kube` answers with 500 for every request routed
 * to the pool. Decided by the gateway's own resolvePickerRef, so validate judges a ref exactly as serve does.
 */
import { resolvePickerRef } from '../../epp/picker-ref.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';

/** What serve logs of such a ref (PoolSchedulers): reported here, as the error it is for the pool's traffic, and only here. */
export const MISSING_PICKER_WARNING = /^InferencePool \S+: spec\.endpointPickerRef .*; its requests get 500 invalid_endpoint_picker_ref/;

export const pickerRefs: Check = {
  name: 'picker-refs',
  codes: ['picker-ref-missing'],
  supersedes: [MISSING_PICKER_WARNING],
  run(ctx) {
    // Files cannot say whether a Service exists: serve -f takes every ref to name infergate.
    const services = ctx.snapshot.services;
    if (!services) return [];
    const findings: Finding[] = [];
    for (const [key, pool] of ctx.snapshot.pools) {
      const ref = resolvePickerRef(pool, { services, declaredServices: ctx.snapshot.declaredServices });
      if (ref.picker !== 'missing') continue;
      const service = (pool.endpointPickerRef?.kind ?? 'Service') === 'Service' && (pool.endpointPickerRef?.group ?? '') === '';
      findings.push({
        ...subjectOf(pool),
        field: service ? 'spec.endpointPickerRef.name' : 'spec.endpointPickerRef.kind',
        severity: 'error',
        code: 'picker-ref-missing',
        message: `${ref.reason}: serve --kube answers every request routed to InferencePool ${key} with 500 invalid_endpoint_picker_ref, whatever its failureMode, and reports ResolvedRefs False (InvalidExtensionRef) in its status`,
        fix: `Create that Service in namespace ${pool.meta.namespace} (the endpoint picker's, or the Service in front of infergate), point spec.endpointPickerRef at an existing one, or remove spec.endpointPickerRef to have infergate pick (docs/kubernetes.md#endpointpickerref).`,
      });
    }
    return findings;
  },
};
