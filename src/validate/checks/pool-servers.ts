/** InferencePools whose selector takes no ready model server: every request routed there gets 503. */
import type { InferencePool } from '../../api/inference-pool.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';
import { describeServer, type ModelServer } from '../model-servers.js';
import type { ValidationContext } from '../validation-context.js';

export const poolServers: Check = {
  name: 'pool-servers',
  codes: ['pool-no-ready-pods'],
  supersedes: [/^InferencePool \S+ selects no pods/],
  run(ctx) {
    const findings: Finding[] = [];
    for (const [key, pool] of ctx.snapshot.pools) {
      // No selector labels: the pool is invalid, and its invalid-object finding says why.
      if (Object.keys(pool.selector).length === 0) continue;
      const members = ctx.members.get(key) ?? [];
      if (members.some((s) => s.ready)) continue;
      const selector = Object.entries(pool.selector).map(([k, v]) => `${k}: ${v}`).join(', ');
      const what = ctx.source === 'files' ? 'no Pod and no workload pod template (Deployment, StatefulSet, ...) in the configuration' : 'no pod in the cluster';
      findings.push({
        ...subjectOf(pool),
        field: members.length === 0 ? 'spec.selector.matchLabels' : null,
        severity: 'error',
        code: 'pool-no-ready-pods',
        message:
          members.length === 0
            ? `selects ${what} (selector {${selector}}${nearest(ctx, pool)}): requests routed to it get 503 no_healthy_endpoint`
            : `selects ${members.length} model server${members.length === 1 ? '' : 's'}, none ready (${members.map((s) => `${describeServer(s)}: ${s.notReady ?? 'not ready'}`).join('; ')}): requests routed to it get 503 no_healthy_endpoint`,
        fix:
          members.length === 0
            ? `Set spec.selector.matchLabels to labels the model server pods carry, in namespace ${pool.meta.namespace}${ctx.source === 'files' ? ', or add their Pods or Deployment to the files validated' : ''}.`
            : `Make the selected pods Ready (see kubectl describe pod), or scale their workload up.`,
      });
    }
    return findings;
  },
};

/** `; the closest, Pod llm-d/gemma-0, has llm-d.ai/model-name: gemma-2b` for the server missing the fewest labels. */
function nearest(ctx: ValidationContext, pool: InferencePool): string {
  const sameNamespace = ctx.allServers.filter((s) => s.ref.namespace === pool.meta.namespace);
  let best: { server: ModelServer; misses: string[] } | undefined;
  for (const server of sameNamespace) {
    const misses = Object.entries(pool.selector)
      .filter(([k, v]) => server.labels[k] !== v)
      .map(([k]) => (server.labels[k] === undefined ? `no label ${k}` : `${k}: ${server.labels[k]}`));
    if (!best || misses.length < best.misses.length) best = { server, misses };
  }
  if (!best) return `; namespace ${pool.meta.namespace} has no model servers at all`;
  return `; the closest, ${describeServer(best.server)}, has ${best.misses.join(', ')}`;
}
