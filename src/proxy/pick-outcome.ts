/**
 * A pick as forward's attempts use it, whoever made it: infergate's scheduler (pick-stage) or another endpoint
 * picker (external-pick-stage). Types only, so the plan can name a pick source without importing either stage.
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { SchedulingContext } from '../epp/framework/plugin.js';
import type { ScheduleResult } from '../epp/framework/scheduler.js';
import type { PoolScheduler } from '../epp/pool-schedulers.js';

export interface PickOutcome {
  endpoint: Endpoint;
  poolScheduler: PoolScheduler;
  ctx: SchedulingContext;
  result: ScheduleResult;
}

/** Endpoints chosen elsewhere (a pool's external endpoint picker), handed to forward's attempts one at a time. */
export interface PickSource {
  /** The next endpoint not in `tried`; throws a GatewayError once none is left (forward then reports every attempt). */
  pick(tried: ReadonlySet<string> | undefined): PickOutcome;
  /** `served` answered with this status and these raw headers. */
  answered(statusCode: number, rawHeaders: readonly Buffer[], served: Endpoint): void;
}
