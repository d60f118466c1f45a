/**
 * The pick: admission (shed sheddable requests when the pool is saturated), the eligible endpoints (model
 * served, not tried, not held out), then the pool's scheduling profile (filters, weighted scorers, picker).
 * Shared by the server and `infergate explain`.
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { NoEndpointError, eligibleEndpoints, judgeCandidates, type PickRequest } from '../epp/eligibility.js';
import type { SchedulingRequest } from '../epp/framework/scheduling-request.js';
import { newSchedulingContext } from '../epp/framework/scheduler.js';
import type { PoolScheduler } from '../epp/pool-schedulers.js';
import { scheduleWithFailureMode } from '../epp/failure-mode.js';
import { poolSaturation } from '../epp/plugins/utilization-detector.js';
import { PROMPT_TEXT_MAX_CHARS, promptText } from '../bbr/prompt-text.js';
import { GatewayError } from '../errors.js';
import { note, type GatewayState, type RoutePlan } from './plan-request.js';
import type { PickOutcome } from './pick-outcome.js';

/** Picks an endpoint for a planned request; `exclude` lists endpoints a failover already tried. */
export function planPick(state: GatewayState, plan: RoutePlan, exclude?: ReadonlySet<string>, trace = false, verdicts = trace): PickOutcome {
  const view = plan.view;
  if (!view) throw new GatewayError('internal_error', 'planPick called without a pool');
  const poolScheduler = state.schedulers.forPool(view.key);
  if (!poolScheduler) throw new GatewayError('internal_error', `no scheduler for InferencePool ${view.key}`);
  const now = Date.now();
  // Where flow control queues the pool's requests (serve, with the gate on), sheddable ones wait in its lower
  // bands like the others (llm-d): nothing is shed here.
  if ((!exclude || exclude.size === 0) && (state.flowControl === undefined || poolScheduler.loaded.flowControl === undefined)) admit(poolScheduler, plan, now);
  const req: PickRequest = { model: plan.model, now };
  if (exclude !== undefined) req.exclude = exclude;
  if (state.discovery === false) req.discovery = false;
  let candidates: readonly Endpoint[];
  try {
    candidates = eligibleEndpoints(view, req);
  } catch (e) {
    if (e instanceof NoEndpointError) plan.candidates = e.candidates;
    throw e;
  }
  if (verdicts) plan.candidates = judgeCandidates(view, req, now);
  plan.schedulingContext ??= newSchedulingContext(schedulingRequest(plan), view.key, { now });
  const ctx = plan.schedulingContext;
  // Data producers (token-producer, ...) not run by preparePick (ext_proc, explain): with what is at hand now.
  if (poolScheduler.scheduler.producesData) void poolScheduler.scheduler.produce(ctx, candidates, false);
  // Admission plugins (probabilistic-admitter), once per request: after flow control's queue and the producers, as llm-d.
  if (poolScheduler.scheduler.admits && (!exclude || exclude.size === 0)) {
    const refused = poolScheduler.scheduler.admit(ctx, candidates);
    if (refused !== undefined) {
      note(plan, 'pick', () => `refused by ${refused}`);
      throw new GatewayError('request_shed', `InferencePool ${view.key} refused this request: ${refused}. Retry later, or use an InferenceObjective with priority 0 or more.`);
    }
  }
  const result = scheduleWithFailureMode(poolScheduler.scheduler, ctx, candidates, { trace }, view, state.schedulers);
  plan.schedule = result;
  if (!result.endpoint) {
    const by = result.emptiedBy ? `filter ${result.emptiedBy.filter.name} (${result.emptiedBy.filter.type}) of scheduling profile ${result.emptiedBy.profile} removed every candidate${result.emptiedBy.filter.whyEmpty ? `: ${result.emptiedBy.filter.whyEmpty(ctx)}` : ''}` : 'the picker chose none';
    throw new GatewayError('no_healthy_endpoint', `no endpoint of InferencePool ${view.key} was picked: ${by} (candidates: ${candidates.map((c) => c.address).join(', ')}; EndpointPickerConfig from ${poolScheduler.origin})`);
  }
  return { endpoint: result.endpoint, poolScheduler, ctx, result };
}

/**
 * Runs the pool's data producers before the first pick (a tokenizer's answer for precise prefix scoring), each
 * bounding its own wait. A promise only then: a pool without producers costs a property read. Never rejects.
 */
export function preparePick(state: GatewayState, plan: RoutePlan): Promise<void> | undefined {
  const view = plan.view;
  const scheduler = view ? state.schedulers.forPool(view.key)?.scheduler : undefined;
  if (!view || !scheduler?.producesData) return undefined;
  const now = Date.now();
  let candidates: readonly Endpoint[];
  try {
    candidates = eligibleEndpoints(view, { model: plan.model, now });
  } catch {
    return undefined; // planPick reports it
  }
  plan.schedulingContext ??= newSchedulingContext(schedulingRequest(plan), view.key, { now });
  return scheduler.produce(plan.schedulingContext, candidates, true);
}

/**
 * InferenceObjective admission: when the pool is saturated (utilization-detector rule, or the concurrency-detector's
 * when `saturationDetector.pluginRef` names one), requests of negative priority get 429 and the others still pass. Stale metrics must not stop traffic (an llm-d pain point): when
 * no endpoint has fresh metrics the saturation is unknown and every request is admitted; only fresh metrics
 * can shed.
 */
function admit(ps: PoolScheduler, plan: RoutePlan, now: number): void {
  const view = plan.view!;
  if (plan.priority >= 0 || view.endpoints.length === 0) return;
  // A config naming a concurrency-detector is gated by it here too, as llm-d's legacy admission asks the configured
  // detector: the gateway's own in-flight counts, never stale.
  const concurrency = ps.loaded.admissionDetector;
  if (concurrency !== undefined) {
    const level = concurrency.saturation(view.endpoints);
    note(plan, 'pick', () => `pool load ${level.toFixed(2)} by ${concurrency.name} (saturated at 1.00)`);
    if (level < 1) return;
    throw new GatewayError(
      'request_shed',
      `InferencePool ${view.key} is saturated (load ${level.toFixed(2)}: requests in flight at ${concurrency.name}'s maxConcurrency ${concurrency.maxConcurrency} per endpoint) and this request's InferenceObjective has priority ${plan.priority}; sheddable requests are refused until load falls. Retry later, or use an objective with priority 0 or more.`,
    );
  }
  const sat = poolSaturation(view.endpoints, now, ps.loaded.saturation);
  if (sat.stale === view.endpoints.length) {
    note(plan, 'pick', () => `saturation unknown (no endpoint has metrics fresher than ${ps.loaded.saturation.metricsStalenessThresholdMs} ms): admitted`);
    return;
  }
  note(plan, 'pick', () => `pool load ${sat.level.toFixed(2)} (saturated at 1.00${sat.stale > 0 ? `; ${sat.stale} endpoint(s) with stale metrics count as full` : ''})`);
  if (sat.saturated) {
    throw new GatewayError(
      'request_shed',
      `InferencePool ${view.key} is saturated (load ${sat.level.toFixed(2)}: waiting queues or KV cache at their thresholds) and this request's InferenceObjective has priority ${plan.priority}; sheddable requests are refused until load falls. Retry later, or use an objective with priority 0 or more.`,
    );
  }
}

function schedulingRequest(plan: RoutePlan): SchedulingRequest {
  return new PlanSchedulingRequest(plan);
}

/**
 * A plan as the scheduler sees it. The prompt text is built only when a plugin reads it, and only as long as it
 * reads (a 16 MiB body's prompt costs a few KiB). A class, so its getter is shared, not built per request.
 */
class PlanSchedulingRequest implements SchedulingRequest {
  readonly requestId: string;
  readonly model: string | undefined;
  readonly priority: number;
  readonly #plan: RoutePlan;
  #prompt: string | undefined;

  constructor(plan: RoutePlan) {
    this.#plan = plan;
    this.requestId = plan.requestId ?? '';
    this.model = plan.model;
    this.priority = plan.priority;
  }

  get prompt(): string {
    return (this.#prompt ??= promptText(this.#plan.json, PROMPT_TEXT_MAX_CHARS, this.#plan.bodyBytes, this.#plan.promptShape));
  }

  promptPrefix(maxChars: number): string {
    return this.#prompt !== undefined ? this.#prompt.slice(0, maxChars) : promptText(this.#plan.json, Math.min(maxChars, PROMPT_TEXT_MAX_CHARS), this.#plan.bodyBytes, this.#plan.promptShape);
  }

  get body(): Readonly<Record<string, unknown>> | undefined {
    return this.#plan.json;
  }

  header(name: string): string | undefined {
    return this.#plan.headers?.get(name);
  }
}
