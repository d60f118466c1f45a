/**
 * llm-d's pool gauges (`llm_d_epp_average_*`, `std_dev_*`, `ready_endpoints`, `per_endpoint_queue_size`) and
 * their GIE twins (`inference_pool_*`), computed at scrape time from the datastore as llm-d's collector and
 * metrics refresher compute them: over the endpoints whose metrics are fresh, rounded to two decimals, the
 * standard deviation of a sample (n - 1).
 */
import type { Registry } from 'prom-client';
import type { Datastore, PoolView } from '../../epp/datastore/datastore.js';
import type { Endpoint } from '../../epp/datastore/endpoint.js';
import { DEFAULT_METRICS_STALENESS_MS, isStale } from '../../epp/metrics/staleness.js';
import { CollectedFamily, type Emit } from './collected-family.js';
import { alpha, register } from './family.js';
import { LLMD } from './request-families.js';

/** Mean and sample standard deviation of each gauge, over one pool's fresh endpoints. */
export interface PoolSummary {
  ready: number;
  kvCache: { mean: number; stdDev: number };
  queue: { mean: number; stdDev: number };
  running: { mean: number; stdDev: number };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

export function summarizePool(endpoints: readonly Endpoint[], now: number, staleMs: number = DEFAULT_METRICS_STALENESS_MS): PoolSummary {
  const kv: number[] = [];
  const queue: number[] = [];
  const running: number[] = [];
  for (const ep of endpoints) {
    if (isStale(ep, now, staleMs)) continue;
    const m = ep.metrics!;
    kv.push(m.kvCacheUsagePercent);
    queue.push(m.waitingQueueSize);
    running.push(m.runningQueueSize);
  }
  return { ready: kv.length, kvCache: stats(kv), queue: stats(queue), running: stats(running) };
}

function stats(xs: readonly number[]): { mean: number; stdDev: number } {
  if (xs.length === 0) return { mean: 0, stdDev: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const ss = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { mean: round2(mean), stdDev: round2(Math.sqrt(ss / Math.max(1, xs.length - 1))) };
}

/**
 * The `name` label of each pool: its name, as llm-d's (which serves one pool) is; a name two namespaces
 * both use would make two series one, so such pools are named `namespace/name` instead.
 */
export function poolLabels(pools: Iterable<PoolView>): Map<PoolView, string> {
  const list = [...pools];
  const byKey = poolNameLabels(list.map((v) => v.key));
  return new Map(list.map((v) => [v, byKey.get(v.key)!]));
}

/** The same rule over pool keys (`namespace/name`): key -> its label (flow control's `inference_pool`, too). */
export function poolNameLabels(keys: Iterable<string>): Map<string, string> {
  const list = [...keys];
  const nameOf = (key: string): string => key.slice(key.indexOf('/') + 1);
  const count = new Map<string, number>();
  for (const k of list) count.set(nameOf(k), (count.get(nameOf(k)) ?? 0) + 1);
  return new Map(list.map((k) => [k, count.get(nameOf(k)) === 1 ? nameOf(k) : k]));
}

/** llm-d's endpoint name: the pod's, with `-rank-N` per target port when the pool has several. */
export function endpointName(view: PoolView, ep: Endpoint): string {
  const ports = view.pool.targetPorts;
  if (ports.length <= 1) return ep.pod.meta.name;
  return `${ep.pod.meta.name}-rank-${Math.max(0, ports.indexOf(ep.port))}`;
}

export class PoolCollector {
  readonly #store: Datastore;
  readonly #staleMs: number;
  readonly families: CollectedFamily[];

  constructor(store: Datastore, staleMs: number = DEFAULT_METRICS_STALENESS_MS) {
    this.#store = store;
    this.#staleMs = staleMs;
    const per = (field: 'kvCache' | 'queue' | 'running', stat: 'mean' | 'stdDev') => (emit: Emit) => this.#each((name, s) => s.ready > 0 && emit(s[field][stat], name));
    const ready = (emit: Emit): void => this.#each((name, s) => emit(s.ready, name));
    const gauge = (name: string, help: string, collect: (emit: Emit) => void, labelNames = ['name']): CollectedFamily => new CollectedFamily({ name, help, type: 'gauge', labelNames, collect });
    const legacy = (use: string, help: string): string => alpha(`[Deprecated: Use ${LLMD}${use}] ${help}`);
    const kvHelp = 'The average kv cache utilization for an inference server pool.';
    const queueHelp = 'The average number of requests pending in the model server queue.';
    const runningHelp = 'The average number of running requests across model servers in the pool.';
    this.families = [
      gauge(`${LLMD}average_kv_cache_utilization`, alpha(kvHelp), per('kvCache', 'mean')),
      gauge('inference_pool_average_kv_cache_utilization', legacy('average_kv_cache_utilization', kvHelp), per('kvCache', 'mean')),
      gauge(`${LLMD}average_queue_size`, alpha(queueHelp), per('queue', 'mean')),
      gauge('inference_pool_average_queue_size', legacy('average_queue_size', queueHelp), per('queue', 'mean')),
      gauge(`${LLMD}average_running_requests`, alpha(runningHelp), per('running', 'mean')),
      gauge('inference_pool_average_running_requests', legacy('average_running_requests', runningHelp), per('running', 'mean')),
      gauge(`${LLMD}std_dev_kv_cache_utilization`, alpha('The standard deviation kv cache utilization for an inference server pool.'), per('kvCache', 'stdDev')),
      gauge(`${LLMD}std_dev_queue_size`, alpha('The standard deviation number of requests pending in the model server queue.'), per('queue', 'stdDev')),
      gauge(`${LLMD}std_dev_running_requests`, alpha('The standard deviation number of running requests across model servers in the pool.'), per('running', 'stdDev')),
      gauge(`${LLMD}ready_endpoints`, alpha('The number of ready endpoints in the inference server pool.'), ready),
      gauge('inference_pool_ready_pods', legacy('ready_endpoints', 'The number of ready pods in the inference server pool.'), ready),
      gauge(
        `${LLMD}per_endpoint_queue_size`,
        alpha('The total number of requests pending in the model server queue for each underlying endpoint.'),
        (emit) => this.#eachEndpoint((pool, ep, name) => emit(ep.metrics?.waitingQueueSize ?? 0, pool, name)),
        ['name', 'model_server_endpoint'],
      ),
      gauge(
        'inference_pool_per_pod_queue_size',
        alpha('The total number of requests pending in the model server queue for each underlying pod.'),
        (emit) => this.#eachEndpoint((pool, ep, name) => emit(ep.metrics?.waitingQueueSize ?? 0, pool, name)),
        ['name', 'model_server_pod'],
      ),
    ];
  }

  register(registry: Registry): void {
    for (const f of this.families) register(registry, f);
  }

  #each(fn: (name: string, s: PoolSummary) => void): void {
    const now = Date.now();
    for (const [view, name] of poolLabels(this.#store.pools())) fn(name, summarizePool(view.endpoints, now, this.#staleMs));
  }

  #eachEndpoint(fn: (pool: string, ep: Endpoint, name: string) => void): void {
    for (const [view, name] of poolLabels(this.#store.pools())) for (const ep of view.endpoints) fn(name, ep, endpointName(view, ep));
  }
}
