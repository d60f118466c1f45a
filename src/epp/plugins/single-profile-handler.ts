/**
 * `single-profile-handler`: runs the one scheduling profile and sends the request by its pick. Configs with stages
 * (prefill/decode disaggregation) use `disagg-profile-handler` (src/epp/plugins/disagg) instead.
 */
import type { Plugin, SchedulingContext } from '../framework/plugin.js';
import type { ProfileHandler } from '../framework/profile-handler.js';
import type { PluginFactory } from '../framework/registry.js';
import type { CycleResult } from '../framework/run-cycle.js';
import type { SchedulingProfile } from '../framework/scheduling-profile.js';

export const SINGLE_PROFILE_HANDLER_TYPE = 'single-profile-handler';

export class SingleProfileHandler implements ProfileHandler, Plugin {
  readonly type = SINGLE_PROFILE_HANDLER_TYPE;
  readonly name: string;

  constructor(name: string = SINGLE_PROFILE_HANDLER_TYPE) {
    this.name = name;
  }

  pickProfiles(
    _ctx: SchedulingContext,
    profiles: ReadonlyMap<string, SchedulingProfile>,
    results: ReadonlyMap<string, CycleResult>,
  ): readonly SchedulingProfile[] {
    if (results.size > 0) return [];
    const only = profiles.values().next().value;
    return only ? [only] : [];
  }

  primaryProfile(_ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): string | undefined {
    return results.keys().next().value;
  }
}

export const singleProfileHandlerFactory: PluginFactory = (name) => new SingleProfileHandler(name);
