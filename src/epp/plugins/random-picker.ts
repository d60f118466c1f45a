/** `random-picker`: any candidate, uniformly, whatever the scores. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Picker, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import { DEFAULT_MAX_NUM_OF_ENDPOINTS, rankEndpoints, readMaxNumOfEndpoints } from './max-num-of-endpoints.js';

export const RANDOM_PICKER_TYPE = 'random-picker';

export class RandomPicker implements Picker {
  readonly type = RANDOM_PICKER_TYPE;
  readonly name: string;
  readonly maxNumOfEndpoints: number;

  constructor(name: string = RANDOM_PICKER_TYPE, maxNumOfEndpoints = DEFAULT_MAX_NUM_OF_ENDPOINTS) {
    this.name = name;
    this.maxNumOfEndpoints = maxNumOfEndpoints;
  }

  pick(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Endpoint | undefined {
    return endpoints[Math.floor(ctx.random() * endpoints.length)];
  }

  pickRanked(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    return rankEndpoints(endpoints, () => 0, ctx.random, this.maxNumOfEndpoints);
  }
}

/** Parameters: `maxNumOfEndpoints` (default 1). */
export const randomPickerFactory: PluginFactory = (name, _p, r) => new RandomPicker(name, readMaxNumOfEndpoints(r));
