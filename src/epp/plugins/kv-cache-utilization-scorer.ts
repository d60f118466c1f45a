/** `kv-cache-utilization-scorer`: prefers endpoints with more free KV cache. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { SchedulingContext, Scorer } from '../framework/plugin.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const KV_CACHE_UTILIZATION_SCORER_TYPE = 'kv-cache-utilization-scorer';

/**
 * score = 1 - `vllm:kv_cache_usage_perc` (clamped to [0, 1]). An endpoint without metrics scores 0, as llm-d
 * now leaves it unscored rather than reading it as an empty cache that outranks every known endpoint.
 */
export class KvCacheUtilizationScorer implements Scorer {
  readonly type = KV_CACHE_UTILIZATION_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();

  constructor(name: string = KV_CACHE_UTILIZATION_SCORER_TYPE) {
    this.name = name;
  }

  score(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const out = this.#scores.zeros(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) {
      const m = endpoints[i]?.metrics;
      if (m) out[i] = Math.min(1, Math.max(0, 1 - m.kvCacheUsagePercent));
    }
    return out;
  }
}

export const kvCacheUtilizationScorerFactory: PluginFactory = (name) => new KvCacheUtilizationScorer(name);
