/**
 * With `--kube`: optional kinds (InferenceObjective, InferenceModelRewrite, in llm-d's group or GIE's) that the
 * credentials may not list. A CRD that is not installed is normal and not reported; a forbidden one leaves its
 * objects unchecked here, and unread by a gateway running under the same RBAC.
 */
import { kindPlural } from '../../config/kube/resource-types.js';
import { groupOf } from '../../api/llm-d-names.js';
import type { Check } from '../check.js';

export const kubeAccess: Check = {
  name: 'kube-access',
  codes: ['kind-forbidden'],
  run(ctx) {
    return ctx.forbidden.map((f) => ({
      severity: 'warning' as const,
      code: 'kind-forbidden',
      object: null,
      location: null,
      field: null,
      message: `${kindPlural(f.kind)} (${f.apiVersion}) could not be listed: ${f.why}. Their objects were not checked, and a gateway running under the same RBAC runs without them (no priorities or model rewrites from that group)`,
      fix: `Grant get, list and watch on ${f.plural} in API group ${groupOf(f.apiVersion)} (deploy/kustomize/base/role.yaml grants them in both groups), to the account validate runs as and to infergate's service account.`,
    }));
  },
};
