/**
 * `single-profile-handler`: runs the one scheduling profile and sends the request by its pick.
 *
 * P/D disaggregation (out of scope) would need, beyond a `pd-profile-handler` (see profile-handler.ts):
 * - a `prefill` profile listing `prefill-filter` (role-filters.ts), the `decode` one `decode-filter`;
 * - the decider: run `decode`, read the prefix-cache-scorer's match for the decode pick from the CycleState,
 *   and run `prefill` only when the uncached part of the prompt exceeds `threshold` tokens (llm-d's
 *   `prefix-based-pd-decider`); the ScheduleResult then carries both picks (it already keeps every profile);
 * - a PreRequest hook writing `x-prefiller-host-port` and the proxy forwarding it to the decode pod's
 *   routing sidecar, which runs the prefill remotely (NIXL KV transfer) before decoding;
 * - hooks per profile: prefix and no-hit-lru state must be recorded on the prefill pick too (our Scheduler
 *   already calls each profile's PreRequest hooks with that profile's pick), and session affinity needs a
 *   second header for the prefill pod (llm-d's `profileName` parameter);
 * - saturation per stage (prefill and decode pods load differently) and an in-flight count per role.
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
