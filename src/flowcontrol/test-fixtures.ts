/** Builders for flow-control tests: a config, endpoints under a concurrency detector, a controllable clock. */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { endpoint } from '../epp/framework/test-fixtures.js';
import { ConcurrencyDetector } from './concurrency-detector.js';
import { FcfsOrderingPolicy } from './fcfs-ordering-policy.js';
import type { BandConfig, FlowControlConfig } from './flow-control-config.js';
import { GlobalStrictFairnessPolicy } from './global-strict-fairness-policy.js';

export function band(over: Partial<BandConfig> = {}): BandConfig {
  return { maxRequests: 5000, maxBytes: 1e9, fairness: new GlobalStrictFairnessPolicy(), ordering: new FcfsOrderingPolicy(), ...over };
}

/** One endpoint taking `maxConcurrency` requests at a time (the gateway's own count), unless overridden. */
export function config(over: Partial<FlowControlConfig> = {}, maxConcurrency = 1): FlowControlConfig {
  return {
    maxRequests: Infinity,
    maxBytes: Infinity,
    defaultRequestTTLMs: 60_000,
    noEndpointRequestTTLMs: 60_000,
    bands: new Map(),
    defaultBand: band(),
    defaultNegativeBand: band(),
    detector: { kind: 'concurrency', detector: new ConcurrencyDetector('c', maxConcurrency) },
    usageCeiling: 1,
    ...over,
  };
}

export function endpoints(n = 1): Endpoint[] {
  return Array.from({ length: n }, (_, i) => endpoint(`10.9.0.${i + 1}`).build());
}

/** A clock tests move by hand. */
export class Clock {
  t = 1_000_000;
  readonly now = (): number => this.t;
}

const nextImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Resolves after the immediates already queued (a release's dispatch cycle), then a short timer (the
 * controller's poll), then the immediates that queued. The immediate goes first: a timer alone could fire before
 * an immediate queued ahead of it when the process is descheduled past its delay (timers run before immediates
 * in each turn), which made a loaded CI machine see no dispatch yet.
 */
export async function settle(ms = 15): Promise<void> {
  await nextImmediate();
  await new Promise((resolve) => setTimeout(resolve, ms));
  await nextImmediate();
}
