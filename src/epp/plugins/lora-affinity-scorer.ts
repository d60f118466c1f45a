/** `lora-affinity-scorer`: prefers endpoints that already run the requested LoRA adapter or can load it. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { SchedulingContext, Scorer } from '../framework/plugin.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const LORA_AFFINITY_SCORER_TYPE = 'lora-affinity-scorer';

/**
 * For an adapter request, from `vllm:lora_requests_info` (GIE's LoraAffinityScorer):
 * 1.0 the adapter is running there; 0.8 a free slot (running + waiting adapters < max_lora); 0.6 the adapter
 * is waiting there; else 0 (also without metrics).
 *
 * A base-model request (or one without a model) scores 1 everywhere: it needs no adapter slot. GIE scores it
 * like an adapter nobody runs (0.8 / 0), which steers base-model traffic away from pods whose adapter slots
 * are full for no reason. The model is an adapter when some candidate lists it with a `parent` in
 * `GET /v1/models`, or runs or queues it.
 */
export class LoraAffinityScorer implements Scorer {
  readonly type = LORA_AFFINITY_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();

  constructor(name: string = LORA_AFFINITY_SCORER_TYPE) {
    this.name = name;
  }

  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const n = endpoints.length;
    const out = this.#scores.zeros(n);
    const model = ctx.request.model;
    if (model === undefined || !isAdapter(model, endpoints)) return out.fill(1);
    for (let i = 0; i < n; i++) {
      const m = endpoints[i]?.metrics;
      if (!m) continue;
      if (m.runningLoras.includes(model)) out[i] = 1;
      else if (m.runningLoras.length + m.waitingLoras.length < m.maxLoras) out[i] = 0.8;
      else if (m.waitingLoras.includes(model)) out[i] = 0.6;
    }
    return out;
  }
}

function isAdapter(model: string, endpoints: readonly Endpoint[]): boolean {
  for (const ep of endpoints) {
    const card = ep.models?.get(model);
    if (card) {
      if (card.parent !== null) return true;
      continue;
    }
    const m = ep.metrics;
    if (m && (m.runningLoras.includes(model) || m.waitingLoras.includes(model))) return true;
  }
  return false;
}

export const loraAffinityScorerFactory: PluginFactory = (name) => new LoraAffinityScorer(name);
