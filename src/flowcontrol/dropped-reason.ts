/**
 * How llm-d's flow control answers a request it does not dispatch: the `x-llm-d-request-dropped-reason`
 * values, the outcome label of its metrics, and the client error of each (router v0.10, ANCHORS §5).
 */
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors.js';

/** The response header naming why flow control dropped a request (llm-d's name). */
export const DROPPED_REASON_HEADER = 'x-llm-d-request-dropped-reason';

/** llm-d's reason strings, unchanged. */
export type DroppedReason = 'rejected-saturated' | 'rejected-ttl-expired' | 'rejected-no-endpoints' | 'rejected-context-cancelled' | 'rejected-shutting-down';

/** The `outcome` label of `llm_d_epp_flow_control_*` series (llm-d's QueueOutcome names). */
export type QueueOutcome = 'Dispatched' | 'RejectedCapacity' | 'RejectedNoEndpoints' | 'RejectedOther' | 'EvictedTTL' | 'EvictedNoEndpoints' | 'EvictedContextCancelled' | 'EvictedOther';

/** A request flow control will not dispatch: the error the client gets and the metrics outcome. */
export class FlowControlRejection extends GatewayError {
  readonly reason: DroppedReason;
  readonly outcome: QueueOutcome;

  constructor(reason: DroppedReason, outcome: QueueOutcome, error: GatewayError) {
    super(error.code, error.message, error.param, error.retry);
    this.reason = reason;
    this.outcome = outcome;
  }

  /** Sets the dropped-reason header on a response not yet started, so the error written next carries it. */
  markResponse(res: ServerResponse): void {
    if (!res.headersSent) res.setHeader(DROPPED_REASON_HEADER, this.reason);
  }
}

/**
 * `limit` says which limit is full and how full; `fields` names where it is set (`flowControl.maxRequests / maxBytes`,
 * or the band's), for the message's advice.
 */
export function rejectedSaturated(pool: string, limit: string, noEndpoints: boolean, fields = 'flowControl.maxRequests / maxBytes'): FlowControlRejection {
  // llm-d answers a capacity rejection of a pool with no endpoints as 503 (PR #2284): a waiting room is not a quota.
  if (noEndpoints) return rejectedNoEndpoints(pool, 0, `its queues are full (${limit})`, 'RejectedNoEndpoints');
  return new FlowControlRejection(
    'rejected-saturated',
    'RejectedCapacity',
    new GatewayError('request_queue_full', `InferencePool ${pool} is saturated and its flow-control queue is full (${limit}). Retry later, or raise ${fields} of the pool's EndpointPickerConfig`),
  );
}

export function rejectedTtlExpired(pool: string, waitedMs: number): FlowControlRejection {
  return new FlowControlRejection(
    'rejected-ttl-expired',
    'EvictedTTL',
    new GatewayError('request_queue_timeout', `the request waited ${waitedMs} ms in InferencePool ${pool}'s flow-control queue while the pool stayed saturated, and its TTL ran out. Retry later, or raise flowControl.defaultRequestTTL`),
  );
}

export function rejectedNoEndpoints(pool: string, waitedMs: number, why = `no endpoint became ready within ${waitedMs} ms`, outcome: QueueOutcome = 'EvictedNoEndpoints'): FlowControlRejection {
  return new FlowControlRejection(
    'rejected-no-endpoints',
    outcome,
    new GatewayError('no_endpoints_available', `InferencePool ${pool} has no ready endpoint: ${why}. Check that its pods are Ready and selected by the pool, or raise flowControl.noEndpointRequestTTL to wait longer for a scale-up`),
  );
}

export function rejectedShuttingDown(pool: string): FlowControlRejection {
  return new FlowControlRejection(
    'rejected-shutting-down',
    'EvictedOther',
    new GatewayError('shutting_down', `the gateway is shutting down and did not dispatch this request queued for InferencePool ${pool}; retry, and another replica will serve it`),
  );
}

/** The client went away while queued: nothing is written back, only counted. */
export function rejectedContextCancelled(pool: string): FlowControlRejection {
  return new FlowControlRejection('rejected-context-cancelled', 'EvictedContextCancelled', new GatewayError('request_queue_timeout', `the client of a request queued for InferencePool ${pool} went away`));
}
