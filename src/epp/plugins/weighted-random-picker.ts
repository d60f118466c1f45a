/** `weighted-random-picker`: a candidate drawn with probability proportional to its total score. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Picker, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import { DEFAULT_MAX_NUM_OF_ENDPOINTS, rankEndpoints, readMaxNumOfEndpoints } from './max-num-of-endpoints.js';

export const WEIGHTED_RANDOM_PICKER_TYPE = 'weighted-random-picker';

/**
 * P(i) = total_i / sum(totals); when every total is 0, uniform (llm-d delegates to the random picker).
 * One endpoint: a single roulette draw. Several: A-Res weighted sampling without replacement
 * (key = u^(1/w), largest keys win), as llm-d; zero-score endpoints come last, in random order.
 */
export class WeightedRandomPicker implements Picker {
  readonly type = WEIGHTED_RANDOM_PICKER_TYPE;
  readonly name: string;
  readonly maxNumOfEndpoints: number;

  constructor(name: string = WEIGHTED_RANDOM_PICKER_TYPE, maxNumOfEndpoints = DEFAULT_MAX_NUM_OF_ENDPOINTS) {
    this.name = name;
    this.maxNumOfEndpoints = maxNumOfEndpoints;
  }

  pick(ctx: SchedulingContext, endpoints: readonly Endpoint[], totals: ArrayLike<number>): Endpoint | undefined {
    const n = endpoints.length;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.max(0, totals[i] ?? 0);
    if (!(sum > 0)) return endpoints[Math.floor(ctx.random() * n)];
    let r = ctx.random() * sum;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const w = Math.max(0, totals[i] ?? 0);
      if (w <= 0) continue;
      last = i;
      r -= w;
      if (r < 0) return endpoints[i];
    }
    // Rounding can leave r at a hair above 0: the last positive one takes it.
    return endpoints[last];
  }

  pickRanked(ctx: SchedulingContext, endpoints: readonly Endpoint[], totals: ArrayLike<number>): readonly Endpoint[] {
    const keys = Array.from({ length: endpoints.length }, (_, i) => {
      const w = totals[i] ?? 0;
      return w > 0 ? Math.pow(Math.max(ctx.random(), 1e-12), 1 / w) : -1;
    });
    return rankEndpoints(endpoints, (i) => keys[i] ?? -1, ctx.random, this.maxNumOfEndpoints);
  }
}

/** Parameters: `maxNumOfEndpoints` (default 1). */
export const weightedRandomPickerFactory: PluginFactory = (name, _p, r) => new WeightedRandomPicker(name, readMaxNumOfEndpoints(r));
