/** InferenceObjectives and InferenceModelRewrites: the pool they name must exist, and rewrite targets be served. */
import type { InferenceModelRewrite } from '../../api/inference-model-rewrite.js';
import type { InferenceObjective } from '../../api/inference-objective.js';
import { LLM_D_GROUP } from '../../api/llm-d-names.js';
import { keyOf } from '../../api/object-meta.js';
import type { Check } from '../check.js';
import { didYouMean } from '../../api/closest-name.js';
import { subjectOf, type Finding } from '../finding.js';
import { unknownNote } from '../served-models.js';
import { poolLacksModel } from './pool-model-coverage.js';
import type { ValidationContext } from '../validation-context.js';

export const objectivesRewrites: Check = {
  name: 'objectives-rewrites',
  codes: ['objective-pool-missing', 'rewrite-pool-missing', 'model-not-served', 'pool-lacks-model', 'legacy-group-ignored'],
  supersedes: [/^(InferenceObjective|InferenceModelRewrite) \S+ refers to InferencePool \S+, which is not in the configuration/, /^InferencePool \S+ has Inference\w+s in \S+, so those in \S+ are ignored for it/],
  run(ctx) {
    const findings: Finding[] = [];
    const pools = ctx.snapshot.pools;
    for (const r of ctx.resources) {
      if (r.kind !== 'InferenceObjective' && r.kind !== 'InferenceModelRewrite') continue;
      const ignored = legacyIgnored(ctx.resources, r);
      if (ignored) findings.push(ignored);
      const poolName = r.poolKey.slice(r.poolKey.indexOf('/') + 1);
      if (poolName === '') continue; // a missing poolRef.name is an invalid-object already
      if (!pools.has(r.poolKey)) {
        const nearby = [...pools.values()].filter((p) => p.meta.namespace === r.meta.namespace).map((p) => p.meta.name);
        const objective = r.kind === 'InferenceObjective';
        findings.push({
          ...subjectOf(r),
          field: 'spec.poolRef.name',
          severity: 'error',
          code: objective ? 'objective-pool-missing' : 'rewrite-pool-missing',
          message: `names InferencePool ${r.poolKey}, which is not in the configuration: ${objective ? `requests naming objective "${r.meta.name}" get no priority from it` : 'its rewrites apply to no request'}`,
          fix: `Set spec.poolRef.name to the pool ${objective ? 'whose requests it classifies' : 'whose requests it rewrites'}${nearby.length > 0 ? ` (in ${r.meta.namespace}: ${nearby.sort().join(', ')})${didYouMean(poolName, nearby)}` : ` (namespace ${r.meta.namespace} has no InferencePool; poolRef names one in the object's own namespace)`}.`,
        });
        continue;
      }
      if (r.kind !== 'InferenceModelRewrite') continue;
      const names = [...ctx.served.bases.keys(), ...ctx.served.adapters.keys()];
      r.rules.forEach((rule, i) => {
        rule.targets.forEach((t, j) => {
          if (t.weight === 0) return;
          const field = `spec.rules[${i}].targets[${j}].modelRewrite`;
          if (!ctx.served.serves(t.modelRewrite)) {
            findings.push({
              ...subjectOf(r),
              field,
              severity: ctx.served.complete ? 'error' : 'warning',
              code: 'model-not-served',
              message: `rewrites ${rule.models.length > 0 ? rule.models.map((m) => `"${m}"`).join(', ') : 'every model'} to "${t.modelRewrite}", which no allowlist ConfigMap lists and no model server serves: ${t.weight === 1 && rule.targets.length === 1 ? 'these requests' : 'the share of requests sent to it'} get 404 model_not_found or 503 no_healthy_endpoint.${unknownNote(ctx.served.unknown, ctx.probed)}`,
              fix: `Load "${t.modelRewrite}" on the servers of InferencePool ${r.poolKey} (vLLM --lora-modules ${t.modelRewrite}=PATH) and list it in its base model's allowlist ConfigMap, or correct the name${didYouMean(t.modelRewrite, names)}.`,
            });
            return;
          }
          const lacks = poolLacksModel(ctx, r.poolKey, t.modelRewrite);
          if (lacks) findings.push({ ...subjectOf(r), field, severity: 'error', code: 'pool-lacks-model', ...lacks });
        });
      });
    }
    return findings;
  },
};

/**
 * A legacy-group (inference.networking.x-k8s.io) objective or rewrite on a pool that also has ones of its kind in
 * llm-d.ai: the gateway ignores it for that pool, as llm-d's router reconciles only the new group then
 * (src/config/snapshot.ts). A migration half done: the old object looks in force and is not.
 */
function legacyIgnored(resources: ValidationContext['resources'], r: InferenceObjective | InferenceModelRewrite): Finding | undefined {
  if (r.group === LLM_D_GROUP) return undefined;
  const winners = resources.filter((o): o is InferenceObjective | InferenceModelRewrite => o.kind === r.kind && o.group === LLM_D_GROUP && o.poolKey === r.poolKey);
  if (winners.length === 0) return undefined;
  const twin = winners.find((w) => w.meta.name === r.meta.name);
  return {
    ...subjectOf(r),
    field: 'apiVersion',
    severity: 'warning',
    code: 'legacy-group-ignored',
    message: `is in ${r.group}, but InferencePool ${r.poolKey} also has ${r.kind}s in ${LLM_D_GROUP} (${winners.map((w) => keyOf(w.meta)).join(', ')}), so the gateway ignores this one for it, as llm-d's router does when both groups are installed: ${r.kind === 'InferenceObjective' ? `requests naming objective "${r.meta.name}" get ${twin ? `the ${LLM_D_GROUP} one's priority` : 'no priority from it'}` : 'its rewrites apply to no request'}`,
    fix: twin
      ? `Delete this ${r.group} copy: ${r.kind} ${keyOf(twin.meta)} in ${LLM_D_GROUP} replaces it (check that its spec says what this one says).`
      : `Move it to apiVersion ${LLM_D_GROUP}/v1alpha2 (the spec is the same), as the pool's other ${r.kind}s are.`,
  };
}
