/** HTTPRoute backendRefs: to a missing InferencePool, to something that is no InferencePool, across namespaces, or none to send to. */
import { INFERENCE_POOL_GROUP } from '../../api/inference-pool.js';
import { LEGACY_INFERENCE_GROUP } from '../../api/llm-d-names.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';

export const routeBackends: Check = {
  name: 'route-backends',
  codes: ['backend-pool-missing', 'backend-not-inference-pool', 'backend-cross-namespace', 'backend-legacy-group', 'rule-no-backend'],
  supersedes: [/^HTTPRoute \S+ rule \d+ (names InferencePool .* which is not in the configuration|has a backendRef of kind|sends to .* in another namespace)/],
  run(ctx) {
    const findings: Finding[] = [];
    const pools = ctx.snapshot.pools;
    for (const route of ctx.snapshot.routes) {
      route.rules.forEach((rule, i) => {
        // The Gateway API answers 500 to what such a rule matches, and so does the gateway (pickBackend finds none).
        if (rule.backendRefs.every((b) => b.weight === 0)) {
          const none = rule.backendRefs.length === 0;
          findings.push({
            ...subjectOf(route),
            field: `spec.rules[${i}].backendRefs`,
            severity: 'error',
            code: 'rule-no-backend',
            message: `${none ? (route.rules.length === 1 && i === 0 ? 'is empty (a route without rules has one rule, without backendRefs)' : 'is empty') : `gives every backendRef weight 0`}: requests matching this rule get 500 pool_not_found ("has no backendRef with a weight above 0"); they do not fall through to a later rule`,
            fix: none ? 'Add a backendRef to the InferencePool that serves these requests (group: inference.networking.k8s.io, kind: InferencePool, name: ...), or delete the rule.' : 'Give at least one backendRef a weight above 0 (the default is 1), or delete the rule if it should not serve.',
          });
        }
        rule.backendRefs.forEach((b, j) => {
          const at = { ...subjectOf(route), field: `spec.rules[${i}].backendRefs[${j}]` };
          const target = `${b.namespace}/${b.name}`;
          if (b.kind !== 'InferencePool') {
            findings.push({
              ...at,
              severity: 'warning',
              code: 'backend-not-inference-pool',
              message: `sends to ${b.kind} ${target}; infergate routes only to InferencePools, so requests matching this rule get 500 backend_not_supported from infergate (a Gateway would send them to the ${b.kind} directly, with no model-aware picking)`,
              fix: `Point the backendRef at an InferencePool (group: inference.networking.k8s.io, kind: InferencePool) that selects the model servers, or leave this rule to another Gateway with --gateway-name.`,
            });
            return;
          }
          if (b.group === LEGACY_INFERENCE_GROUP) {
            // infergate reads only v1 pools and takes the old group to mean them; a Gateway resolves the group as written.
            findings.push({
              ...at,
              field: `${at.field}.group`,
              severity: 'warning',
              code: 'backend-legacy-group',
              message: `names group ${LEGACY_INFERENCE_GROUP}, GIE's v1alpha2 InferencePool; infergate sends it to the v1 InferencePool ${target}, but a Gateway resolves the group as written: it looks for a v1alpha2 InferencePool of that name (or, without that CRD, does not know the kind), and without one answers 500 (ResolvedRefs False)`,
              fix: `Set the backendRef's group to ${INFERENCE_POOL_GROUP}, the v1 InferencePool's.`,
            });
          }
          if (b.namespace !== route.meta.namespace) {
            findings.push({
              ...at,
              severity: 'warning',
              code: 'backend-cross-namespace',
              message: `sends to InferencePool ${target} in another namespace; the Gateway API needs a ReferenceGrant in ${b.namespace} for that, which infergate does not check (it allows the reference)`,
              fix: `Create a ReferenceGrant in namespace ${b.namespace} allowing HTTPRoutes from ${route.meta.namespace} to reference InferencePools, or move the route into ${b.namespace}.`,
            });
          }
          if (!pools.has(target)) {
            const nearby = [...pools.values()].filter((p) => p.meta.namespace === b.namespace).map((p) => p.meta.name);
            findings.push({
              ...at,
              severity: 'error',
              code: 'backend-pool-missing',
              message: `names InferencePool ${target}, which is not in the configuration: requests matching this rule get 500 pool_not_found`,
              fix: `Create InferencePool ${target}, or set the backendRef's name to an existing pool${nearby.length > 0 ? ` (in ${b.namespace}: ${nearby.sort().join(', ')})` : ` (there is none in namespace ${b.namespace})`}.`,
            });
          }
        });
      });
    }
    return findings;
  },
};
