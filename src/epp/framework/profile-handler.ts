/** The ProfileHandler contract: which scheduling profiles a request runs, and which result it is sent by. */
import type { Plugin, SchedulingContext } from './plugin.js';
import type { CycleResult } from './run-cycle.js';
import type { SchedulingProfile } from './scheduling-profile.js';

/**
 * Drives a request through one or more profiles (llm-d's ProfileHandler). The scheduler calls `pickProfiles`
 * with the results so far (empty at first) until it returns none, never running a profile twice; then
 * `primaryProfile` names the result the request is sent by. With one profile this is `single-profile-handler`.
 *
 * Room for P/D disaggregation (not implemented): a `pd-profile-handler` would return `decode` first, then,
 * when the decode pick's prefix hit leaves more than `threshold` uncached tokens, `prefill`; `primaryProfile`
 * stays `decode`, and a PreRequest plugin (llm-d's `prefill-header-handler`) would set
 * `x-prefiller-host-port: <prefill address>` for the decode pod's routing sidecar. See docs in
 * `single-profile-handler.ts` for what else the proxy and the datastore would need.
 */
export interface ProfileHandler extends Plugin {
  pickProfiles(
    ctx: SchedulingContext,
    profiles: ReadonlyMap<string, SchedulingProfile>,
    results: ReadonlyMap<string, CycleResult>,
  ): readonly SchedulingProfile[];
  /** The profile whose pick receives the request; undefined when none picked anything. */
  primaryProfile(ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): string | undefined;
}

export function isProfileHandler(p: Plugin): p is ProfileHandler {
  const h = p as Partial<ProfileHandler>;
  return typeof h.pickProfiles === 'function' && typeof h.primaryProfile === 'function';
}
