/**
 * Fixture builders for scheduling tests that read like what they stand for:
 * `endpoint('10.0.0.1').waiting(3).kv(0.5).inFlight(2).serves('llama')`, `request({ model: 'llama', prompt })`.
 */
import { pod } from '../../api/test-fixtures.js';
import { Endpoint } from '../datastore/endpoint.js';
import type { EndpointMetrics } from '../datastore/endpoint-metrics.js';
import type { ModelCard } from '../../api/model-card.js';
import { CycleState } from './cycle-state.js';
import type { SchedulingContext } from './plugin.js';
import type { SchedulingRequest } from './scheduling-request.js';

/** The fixed clock of scheduling tests (ms since epoch). */
export const NOW = 1_700_000_000_000;

export class EndpointBuilder {
  #ip: string;
  #port = 8000;
  #podName: string;
  #namespace = 'default';
  #labels: Record<string, string> = {};
  #metrics: EndpointMetrics | undefined;
  #inFlight = 0;
  #unanswered = 0;
  #models: ModelCard[] | undefined;

  constructor(ip: string) {
    this.#ip = ip;
    this.#podName = `pod-${ip.replaceAll(/[.:]/g, '-')}`;
  }

  port(port: number): this {
    this.#port = port;
    return this;
  }

  pod(name: string, namespace = 'default'): this {
    this.#podName = name;
    this.#namespace = namespace;
    return this;
  }

  labels(labels: Record<string, string>): this {
    Object.assign(this.#labels, labels);
    return this;
  }

  /** Scraped metrics (defaults: idle, fresh at NOW); the endpoint has none until this or a shortcut is called. */
  metrics(m: Partial<EndpointMetrics> = {}): this {
    this.#metrics = {
      waitingQueueSize: 0,
      runningQueueSize: 0,
      kvCacheUsagePercent: 0,
      runningLoras: [],
      waitingLoras: [],
      maxLoras: 0,
      updatedAt: NOW,
      ...this.#metrics,
      ...m,
    };
    return this;
  }

  waiting(n: number): this {
    return this.metrics({ waitingQueueSize: n });
  }

  kv(fraction: number): this {
    return this.metrics({ kvCacheUsagePercent: fraction });
  }

  loras(running: string[], waiting: string[], max: number): this {
    return this.metrics({ runningLoras: running, waitingLoras: waiting, maxLoras: max });
  }

  inFlight(n: number): this {
    this.#inFlight = n;
    return this;
  }

  /** Of the in-flight requests, these have no response byte yet (raises in-flight to match if it is lower). */
  unanswered(n: number): this {
    this.#unanswered = n;
    this.#inFlight = Math.max(this.#inFlight, n);
    return this;
  }

  /** What `GET /v1/models` answered: base models. */
  serves(...ids: string[]): this {
    this.#models = [...(this.#models ?? []), ...ids.map((id) => ({ id, parent: null }))];
    return this;
  }

  /** LoRA adapters listed with their base model as `parent`. */
  adapters(base: string, ...ids: string[]): this {
    this.#models = [...(this.#models ?? []), ...ids.map((id) => ({ id, parent: base }))];
    return this;
  }

  build(): Endpoint {
    const p = pod(this.#podName).inNamespace(this.#namespace).labels(this.#labels).ip(this.#ip).ready();
    const ep = new Endpoint(p, this.#ip, this.#port);
    if (this.#metrics) ep.metrics = { ...this.#metrics };
    ep.inFlight = this.#inFlight;
    ep.unanswered = this.#unanswered;
    if (this.#models) ep.setModels(this.#models, NOW);
    return ep;
  }
}

export function endpoint(ip: string): EndpointBuilder {
  return new EndpointBuilder(ip);
}

/** `endpoints(3)`: 10.0.0.1..3 with fresh idle metrics. */
export function endpoints(n: number, each: (b: EndpointBuilder, i: number) => EndpointBuilder = (b) => b): Endpoint[] {
  return Array.from({ length: n }, (_, i) => each(endpoint(`10.0.0.${i + 1}`).metrics(), i).build());
}

/**
 * `endpointsWith([3, undefined], (b, q) => b.waiting(q))`: one endpoint per value, 10.0.0.1 onwards, `set` applied
 * with each defined value; an undefined value leaves its endpoint bare (never scraped).
 */
export function endpointsWith<T>(values: readonly (T | undefined)[], set: (b: EndpointBuilder, value: T) => EndpointBuilder): Endpoint[] {
  return values.map((v, i) => {
    const b = endpoint(`10.0.0.${i + 1}`);
    return (v === undefined ? b : set(b, v)).build();
  });
}

export function request(r: Partial<Omit<SchedulingRequest, 'header'>> & { headers?: Record<string, string> } = {}): SchedulingRequest {
  const headers = r.headers ?? {};
  return {
    requestId: r.requestId ?? 'req-1',
    model: 'model' in r ? r.model : 'llama',
    prompt: r.prompt ?? '',
    priority: r.priority ?? 0,
    header: (name) => headers[name.toLowerCase()],
  };
}

export function context(req: SchedulingRequest = request(), random: () => number = () => 0.5): SchedulingContext {
  return { request: req, state: new CycleState(), pool: 'default/pool', now: NOW, random };
}
