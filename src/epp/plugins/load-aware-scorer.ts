/** `load-aware-scorer` (llm-d): 0.5 for an empty waiting queue, falling to 0 at `threshold` waiting requests. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { SchedulingContext, Scorer } from '../framework/plugin.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const LOAD_AWARE_SCORER_TYPE = 'load-aware-scorer';
/** llm-d's `QueueThresholdDefault`. */
export const DEFAULT_LOAD_THRESHOLD = 128;

/**
 * q = `Endpoint.waitingQueue()` (the scraped waiting queue plus unanswered requests the pod does not report).
 * q = 0 -> 0.5; else 0.5 x (1 - min(q, T) / T). Scores stay in [0, 0.5]: llm-d keeps the upper half for
 * pods known to have spare capacity, which the metrics do not tell yet. Without metrics: 0.
 */
export class LoadAwareScorer implements Scorer {
  readonly type = LOAD_AWARE_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();
  readonly threshold: number;

  constructor(name: string = LOAD_AWARE_SCORER_TYPE, threshold = DEFAULT_LOAD_THRESHOLD) {
    this.name = name;
    this.threshold = threshold;
  }

  score(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const out = this.#scores.zeros(endpoints.length);
    const t = this.threshold;
    for (let i = 0; i < endpoints.length; i++) {
      const ep = endpoints[i] as Endpoint;
      if (!ep.metrics) continue;
      const q = ep.waitingQueue();
      out[i] = q <= 0 ? 0.5 : 0.5 * (1 - Math.min(q, t) / t);
    }
    return out;
  }
}

/** Parameters: `threshold` (positive integer, default 128). llm-d silently replaces a non-positive one; we reject it. */
export const loadAwareScorerFactory: PluginFactory = (name, _p, r) => new LoadAwareScorer(name, r.positiveInt('threshold', DEFAULT_LOAD_THRESHOLD));
