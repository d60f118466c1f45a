/**
 * llm-d's two unconditional deciders: `always-disagg-pd-decider` (every request's prefill goes to a prefill pod) and
 * `always-disagg-multimodal-decider` (every request with images, audio or video goes to an encode pod first).
 */
import type { SchedulingContext } from '../../framework/plugin.js';
import type { PluginFactory } from '../../framework/registry.js';
import type { DisaggDecider } from './disagg-decider.js';
import { hasMultimodalContent } from './multimodal-content.js';

export const ALWAYS_DISAGG_PD_DECIDER_TYPE = 'always-disagg-pd-decider';
export const ALWAYS_DISAGG_MULTIMODAL_DECIDER_TYPE = 'always-disagg-multimodal-decider';

export class AlwaysDisaggPdDecider implements DisaggDecider {
  readonly type = ALWAYS_DISAGG_PD_DECIDER_TYPE;
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  disaggregate(): boolean {
    return true;
  }
}

export class AlwaysDisaggMultimodalDecider implements DisaggDecider {
  readonly type = ALWAYS_DISAGG_MULTIMODAL_DECIDER_TYPE;
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  disaggregate(ctx: SchedulingContext): boolean {
    return hasMultimodalContent(ctx.request.body);
  }
}

/** No parameters, as llm-d's. */
export const alwaysDisaggPdDeciderFactory: PluginFactory = (name) => new AlwaysDisaggPdDecider(name);
export const alwaysDisaggMultimodalDeciderFactory: PluginFactory = (name) => new AlwaysDisaggMultimodalDecider(name);
