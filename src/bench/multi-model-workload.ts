/** The field report's mix: requests spread over every served name, base models and LoRA adapters alike. */
import { fillerText } from './filler-text.js';
import { buildRequest, pickApi, requireInt, requireModels } from './request-body.js';
import { uniformIndex } from './sampling.js';
import type { Workload, WorkloadApi } from './workload.js';

export interface MultiModelOptions {
  /** Bases and adapters, as `GET /v1/models` lists them. */
  models: string[];
  promptTokens: number;
  maxTokens: number;
  /** round-robin (default): request i asks models[i % n]; uniform: a random model per request. */
  pick?: 'round-robin' | 'uniform';
  /** Default mixed, like the field report's client: chat and completions. */
  api?: WorkloadApi;
}

export function multiModelWorkload(o: MultiModelOptions): Workload {
  requireModels(o.models);
  const promptTokens = requireInt('promptTokens', o.promptTokens, 1);
  const maxTokens = requireInt('maxTokens', o.maxTokens, 1);
  const api = o.api ?? 'mixed';
  const uniform = o.pick === 'uniform';
  return {
    name: 'multi-model',
    next(i, random) {
      const m = uniform ? uniformIndex(random, o.models.length) : i % o.models.length;
      const model = o.models[m] ?? '';
      // A per-request lead keeps prompts distinct, so no prefix cache flatters this workload.
      const user = fillerText(random, promptTokens, `Request ${i} for ${model}: `);
      return buildRequest(pickApi(api, random), { model, user, maxTokens, tags: { model } });
    },
  };
}
