/** `max-score-picker`: the endpoint with the highest total score, ties broken at random. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Picker, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import { DEFAULT_MAX_NUM_OF_ENDPOINTS, rankEndpoints, readMaxNumOfEndpoints } from './max-num-of-endpoints.js';

export const MAX_SCORE_PICKER_TYPE = 'max-score-picker';

/**
 * Ties are broken at random, each tied endpoint equally likely (GIE shuffles). Current llm-d rotates ties
 * round-robin instead; random does the same job without shared counter state across pools.
 */
export class MaxScorePicker implements Picker {
  readonly type = MAX_SCORE_PICKER_TYPE;
  readonly name: string;
  readonly maxNumOfEndpoints: number;

  constructor(name: string = MAX_SCORE_PICKER_TYPE, maxNumOfEndpoints = DEFAULT_MAX_NUM_OF_ENDPOINTS) {
    this.name = name;
    this.maxNumOfEndpoints = maxNumOfEndpoints;
  }

  pick(ctx: SchedulingContext, endpoints: readonly Endpoint[], totals: ArrayLike<number>): Endpoint | undefined {
    let best = -1;
    let max = -Infinity;
    let ties = 0;
    for (let i = 0; i < endpoints.length; i++) {
      const t = totals[i] ?? 0;
      if (t > max) {
        max = t;
        best = i;
        ties = 1;
      } else if (t === max && ctx.random() * ++ties < 1) {
        // Reservoir sampling: the k-th tie takes over with probability 1/k, so each of k ties wins 1/k.
        best = i;
      }
    }
    return endpoints[best];
  }

  pickRanked(ctx: SchedulingContext, endpoints: readonly Endpoint[], totals: ArrayLike<number>): readonly Endpoint[] {
    return rankEndpoints(endpoints, (i) => totals[i] ?? 0, ctx.random, this.maxNumOfEndpoints);
  }
}

/** Parameters: `maxNumOfEndpoints` (default 1). */
export const maxScorePickerFactory: PluginFactory = (name, _p, r) => new MaxScorePicker(name, readMaxNumOfEndpoints(r));
