/**
 * A pick as forward's attempts use it, whoever made it: infergate's scheduler (pick-stage) or another endpoint
 * picker (external-pick-stage). Types only, so the plan can name a pick source without importing either stage.
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { SchedulingContext } from '../epp/framework/plugin.js';
import type { ScheduleResult } from '../epp/framework/scheduler.js';
import type { PoolScheduler } from '../epp/pool-schedulers.js';
import type { ServerResponse } from 'node:http';
import type { ResponseChanges } from '../epp/external/response-changes.js';

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
  /**
   * `served` answered with this status and these raw headers: the picker's changes to the answer, once it gave
   * them; undefined when there is nothing to wait for.
   */
  answered(statusCode: number, rawHeaders: readonly Buffer[], served: Endpoint): Promise<ResponseChanges> | undefined;
  /** Applies header changes to the client's headers (flat list); returns the status to answer with. */
  applyChanges(list: string[], changes: Extract<ResponseChanges, { kind: 'headers' }>, status: number): number;
  /** Sends the picker's immediate response to the client instead of the endpoint's answer. */
  replace(res: ServerResponse, changes: Extract<ResponseChanges, { kind: 'immediate' }>, requestId: string): void;
}
