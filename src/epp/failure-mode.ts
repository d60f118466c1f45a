/**
 * `endpointPickerRef.failureMode` for infergate's own picker: when the scheduler fails (throws), FailOpen sends
 * the request to a ready endpoint of the pool at random, FailClose answers 503. A filter that keeps nothing
 * is a decision, not a failure (as Envoy applies failure_mode_allow only when the EPP does not answer).
 */
import type { InferencePool } from '../api/inference-pool.js';
import { GatewayError } from '../errors.js';
import type { Endpoint } from './datastore/endpoint.js';
import type { SchedulingContext } from './framework/plugin.js';
import type { ScheduleOptions, ScheduleResult, Scheduler } from './framework/scheduler.js';

export type FailureMode = 'FailOpen' | 'FailClose';

/** GIE's default when the ref (or the field) is unset: FailClose. */
export function failureModeOf(pool: InferencePool): FailureMode {
  return pool.endpointPickerRef?.failureMode ?? 'FailClose';
}

export interface PickerFailure {
  pool: string;
  mode: FailureMode;
  error: unknown;
  /** FailOpen: the endpoint the request went to instead. */
  endpoint?: Endpoint;
}

/** Told of every picker failure (the gateway logs it). */
export interface PickerFailureSink {
  pickerFailed(failure: PickerFailure): void;
}

/**
 * The scheduler's result; when it throws, a random one of `candidates` (already the eligible endpoints:
 * ready, serving the model, not tried, not held out) under FailOpen, else 503 `endpoint_picker_unavailable`.
 * A GatewayError from a plugin is its answer, passed on unchanged.
 */
export function scheduleWithFailureMode(
  scheduler: Scheduler,
  ctx: SchedulingContext,
  candidates: readonly Endpoint[],
  options: ScheduleOptions,
  pool: { key: string; pool: InferencePool },
  sink?: PickerFailureSink,
): ScheduleResult {
  try {
    return scheduler.schedule(ctx, candidates, options);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    const mode = failureModeOf(pool.pool);
    const message = error instanceof Error ? error.message : String(error);
    if (mode === 'FailOpen' && candidates.length > 0) {
      const endpoint = candidates[Math.min(candidates.length - 1, Math.floor(ctx.random() * candidates.length))]!;
      sink?.pickerFailed({ pool: pool.key, mode, error, endpoint });
      return { endpoint, results: new Map() };
    }
    sink?.pickerFailed({ pool: pool.key, mode, error });
    throw new GatewayError(
      'endpoint_picker_unavailable',
      `the endpoint picker of InferencePool ${pool.key} failed (${message}) and the pool's spec.endpointPickerRef.failureMode is ${mode}, so the request is refused. Retry later; set failureMode: FailOpen to send requests to a ready endpoint while the picker fails`,
    );
  }
}
