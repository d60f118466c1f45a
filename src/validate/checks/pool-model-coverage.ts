/** Whether a pool's ready servers can take a model: shared by the route and the model-rewrite checks. */
import { describeServer } from '../model-servers.js';
import { listNames } from '../served-models.js';
import { poolServed, type ValidationContext } from '../validation-context.js';

/**
 * Why requests for `model` sent to the pool `poolKey` find no endpoint, or undefined when they do (or when it
 * cannot be told: an unknown model, a pool without ready servers, servers whose models are unknown; other
 * checks report those). An adapter counts as taken when the pool serves its base model: vLLM can load
 * adapters at runtime.
 */
export function poolLacksModel(ctx: ValidationContext, poolKey: string, model: string): { message: string; fix: string } | undefined {
  const bases = ctx.served.basesOf(model);
  if (bases.length === 0 || !ctx.snapshot.pools.has(poolKey)) return undefined;
  const { ready, served } = poolServed(ctx, poolKey);
  if (ready.length === 0 || !served.complete) return undefined;
  if (served.serves(model) || bases.some((b) => served.bases.has(b))) return undefined;
  const what = bases.includes(model) ? `base model "${model}"` : `"${model}" (an adapter of ${bases.map((b) => `"${b}"`).join(', ')})`;
  const elsewhere = [...ctx.snapshot.pools.keys()].filter((k) => k !== poolKey && bases.some((b) => poolServed(ctx, k).served.bases.has(b)));
  return {
    message: `sends ${what} to InferencePool ${poolKey}, whose ready servers (${ready.map(describeServer).join(', ')}) serve only ${listNames(served.bases.keys())}: these requests get 503 no_healthy_endpoint`,
    fix:
      elsewhere.length > 0
        ? `Send them to ${elsewhere.map((k) => `InferencePool ${k}`).join(' or ')}, whose servers run ${bases.join(', ')}.`
        : `Select servers that run ${bases.join(', ')} in InferencePool ${poolKey} (spec.selector), or send these requests to a pool that has them.`,
  };
}
