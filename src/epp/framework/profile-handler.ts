/** The ProfileHandler contract: which scheduling profiles a request runs, and which result it is sent by. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Plugin, SchedulingContext } from './plugin.js';
import type { CycleResult } from './run-cycle.js';
import type { SchedulingProfile } from './scheduling-profile.js';

/**
 * Drives a request through one or more profiles (llm-d's ProfileHandler). The scheduler calls `pickProfiles`
 * with the results so far (empty at first) until it returns none, never running a profile twice; then
 * `primaryProfile` names the result the request is sent by. With one profile this is `single-profile-handler`;
 * llm-d's disaggregation handlers run decode, then prefill and encode when their deciders say so (src/epp/plugins/disagg).
 */
export interface ProfileHandler extends Plugin {
  pickProfiles(
    ctx: SchedulingContext,
    profiles: ReadonlyMap<string, SchedulingProfile>,
    results: ReadonlyMap<string, CycleResult>,
  ): readonly SchedulingProfile[];
  /** The profile whose pick receives the request; undefined when none picked anything. */
  primaryProfile(ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): string | undefined;
  /**
   * Headers the request goes upstream with, from the profiles that ran (the disaggregation handlers: the prefill and
   * encode pods, for the decode pod's routing sidecar). A name mapped to undefined is removed. Called once per
   * schedule whose primary profile picked.
   */
  requestHeaders?(ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): Readonly<Record<string, string | undefined>>;
  /**
   * Endpoints besides the primary pick that the request makes work for (the disaggregation handlers: the prefill and
   * encode pods the decode pod's sidecar sends to). The gateway counts the request in flight on them until its answer
   * starts. Called once per schedule whose primary profile picked; empty for none.
   */
  stageEndpoints?(ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): readonly Endpoint[];
}

export function isProfileHandler(p: Plugin): p is ProfileHandler {
  const h = p as Partial<ProfileHandler>;
  return typeof h.pickProfiles === 'function' && typeof h.primaryProfile === 'function';
}
