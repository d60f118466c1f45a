/**
 * `probabilistic-admitter` (llm-d): sheds sheddable requests (priority below 0) with a probability that rises
 * steeply with the pool's load, instead of the utilization detector's all-or-nothing cut; requests of priority 0
 * or more are always admitted.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Admitter, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

export const PROBABILISTIC_ADMITTER_TYPE = 'probabilistic-admitter';

export interface ProbabilisticAdmitterParams {
  /** Waiting requests at which an endpoint counts as fully loaded. */
  readonly queueDepthThreshold: number;
  /** KV-cache fraction (0-1) at which an endpoint counts as fully loaded. */
  readonly kvCacheUtilThreshold: number;
  /** The curve's steepness: a longer quiet zone and a sharper rise when higher. */
  readonly power: number;
  /** Where every sheddable request is refused: at load (1/k)^(1/power). */
  readonly k: number;
}

/** llm-d's defaults: 100% shed from load (1/300)^(1/5) = 0.32 (llm-d's README rounds it to 0.34). */
export const PROBABILISTIC_ADMITTER_DEFAULTS: ProbabilisticAdmitterParams = { queueDepthThreshold: 5, kvCacheUtilThreshold: 0.8, power: 5, k: 300 };

export class ProbabilisticAdmitter implements Admitter {
  readonly type = PROBABILISTIC_ADMITTER_TYPE;
  readonly name: string;
  readonly params: ProbabilisticAdmitterParams;

  constructor(name: string = PROBABILISTIC_ADMITTER_TYPE, params: ProbabilisticAdmitterParams = PROBABILISTIC_ADMITTER_DEFAULTS) {
    this.name = name;
    this.params = params;
  }

  /**
   * The pool's load: the mean over candidates of max(waiting / queueDepthThreshold, KV cache / kvCacheUtilThreshold),
   * an endpoint without metrics counting 1 (fully loaded), as llm-d's roofline.
   */
  load(endpoints: readonly Endpoint[]): number {
    const { queueDepthThreshold, kvCacheUtilThreshold } = this.params;
    let total = 0;
    for (const ep of endpoints) {
      const m = ep.metrics;
      total += m === undefined ? 1 : Math.max(ep.waitingQueue() / queueDepthThreshold, m.kvCacheUsagePercent / kvCacheUtilThreshold);
    }
    return total / endpoints.length;
  }

  /** min(load^power x k, 1). */
  probability(load: number): number {
    return Math.min(load ** this.params.power * this.params.k, 1);
  }

  admit(ctx: SchedulingContext, candidates: readonly Endpoint[]): string | undefined {
    if (ctx.request.priority >= 0 || candidates.length === 0) return undefined;
    const load = this.load(candidates);
    const p = this.probability(load);
    return ctx.random() < p ? `sheddable request shed at pool load ${load.toFixed(3)} (shed probability ${p.toFixed(2)})` : undefined;
  }
}

/** Parameters, by llm-d's names: `queueDepthThreshold` (integer), `kvCacheUtilThreshold`, `power`, `k`, each above 0. */
export const probabilisticAdmitterFactory: PluginFactory = (name, _p, r) => {
  const d = PROBABILISTIC_ADMITTER_DEFAULTS;
  return new ProbabilisticAdmitter(name, {
    queueDepthThreshold: r.positiveInt('queueDepthThreshold', d.queueDepthThreshold),
    kvCacheUtilThreshold: r.number('kvCacheUtilThreshold', d.kvCacheUtilThreshold, { above: 0 }),
    power: r.number('power', d.power, { above: 0 }),
    k: r.number('k', d.k, { above: 0 }),
  });
};
