import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { inferencePool } from '../../api/test-fixtures.js';
import type { Reflector } from '../../config/kube/reflector.js';
import type { Datastore, PoolView } from '../../epp/datastore/datastore.js';
import type { Endpoint } from '../../epp/datastore/endpoint.js';
import { endpoint } from '../../epp/framework/test-fixtures.js';
import type { PoolSchedulers } from '../../epp/pool-schedulers.js';
import { EndpointCollector } from './endpoint-collector.js';
import { KubeCollector } from './kube-collector.js';
import { sample } from './test-fixtures.js';

function view(endpoints: Endpoint[]): PoolView {
  return { key: 'default/llama', pool: inferencePool('llama').selects({ app: 'llama' }), endpoints, excluded: [] };
}

async function collect(eps: Endpoint[]): Promise<string> {
  const reg = new Registry();
  const datastore = { pools: () => [view(eps)][Symbol.iterator]() } as unknown as Datastore;
  const schedulers = { forPool: () => undefined } as unknown as PoolSchedulers;
  new EndpointCollector({ datastore, schedulers, outlierStats: { ejectionsEnforcedConsecutive5xx: 1, ejectionsEnforcedConsecutiveGatewayFailure: 2, ejectionsOverflow: 3 } }).register(reg);
  return reg.metrics();
}

test('per-endpoint state at scrape time: held out and why, stale metrics, failures, discovery', async () => {
  const now = Date.now();
  const fresh = endpoint('10.0.0.1').pod('llama-0').metrics({ updatedAt: now }).serves('llama', 'llama-lora').build();
  const backoff = endpoint('10.0.0.2').pod('llama-1').metrics({ updatedAt: now - 60_000 }).build();
  backoff.markConnectFailure(now);
  backoff.markConnectFailure(now);
  backoff.metricsFailures = 7;
  backoff.modelsError = 'GET /v1/models failed: ECONNREFUSED';
  const ejected = endpoint('10.0.0.3').pod('llama-2').serves('llama').build();
  ejected.outlier.ejectedUntil = now + 30_000;
  const text = await collect([fresh, backoff, ejected]);
  const after = Date.now();
  // [series, labels, value]
  const table: [string, Record<string, string>, number | undefined][] = [
    ['infergate_endpoint_held_out', { endpoint: '10.0.0.1:8000', reason: 'backoff' }, 0],
    ['infergate_endpoint_held_out', { endpoint: '10.0.0.2:8000', reason: 'backoff' }, 1],
    ['infergate_endpoint_held_out', { endpoint: '10.0.0.3:8000', reason: 'ejected' }, 1],
    ['infergate_endpoint_held_out', { endpoint: '10.0.0.3:8000', reason: 'backoff' }, 0],
    ['infergate_endpoint_metrics_stale', { endpoint: '10.0.0.1:8000' }, 0],
    ['infergate_endpoint_metrics_stale', { endpoint: '10.0.0.2:8000' }, 1],
    ['infergate_endpoint_metrics_stale', { endpoint: '10.0.0.3:8000', pool: 'default/llama', pod: 'default/llama-2' }, 1],
    ['infergate_endpoint_metrics_age_seconds', { endpoint: '10.0.0.3:8000' }, undefined],
    ['infergate_upstream_connect_failures_total', { endpoint: '10.0.0.2:8000' }, 2],
    ['infergate_endpoint_scrape_failures_total', { endpoint: '10.0.0.2:8000' }, 7],
    ['infergate_endpoint_discovery_state', { endpoint: '10.0.0.1:8000', state: 'ok' }, 1],
    ['infergate_endpoint_discovery_state', { endpoint: '10.0.0.2:8000', state: 'failing' }, 1],
    ['infergate_endpoint_discovery_state', { endpoint: '10.0.0.2:8000', state: 'pending' }, 0],
    ['infergate_endpoint_served_models', { endpoint: '10.0.0.1:8000' }, 2],
    ['infergate_endpoint_served_models', { endpoint: '10.0.0.2:8000' }, undefined],
    ['infergate_outlier_ejections_total', { type: 'consecutive_gateway_failure' }, 2],
    ['infergate_outlier_ejections_overflow_total', {}, 3],
    // The mean of each endpoint's load: 10.0.0.1 is fresh and idle (0); 10.0.0.2 (stale) and 10.0.0.3 (never scraped) count as full (1).
    ['infergate_pool_saturation', { pool: 'default/llama' }, 2 / 3],
  ];
  for (const [name, labels, want] of table) assert.equal(sample(text, name, labels), want, `${name} ${JSON.stringify(labels)}`);
  // Scraped 60 s after its metrics, plus however long the collection took.
  const age = sample(text, 'infergate_endpoint_metrics_age_seconds', { endpoint: '10.0.0.2:8000' })!;
  assert.ok(age >= 60 && age <= 60 + (after - now) / 1000, `age ${age}`);
});

test('Kubernetes watches: synced, failing, unreadable, objects and counts per reflector; repeats reported once', async () => {
  type Fake = Partial<{ synced: boolean; failingSince: number; unreadable: boolean; lastError: string; failures: number; size: number; selector: string; namespace: string }>;
  const reflector = (plural: string, apiVersion: string, o: Fake): Reflector =>
    ({ type: { plural, apiVersion }, namespace: o.namespace ?? 'llm', selector: o.selector ?? '', synced: o.synced ?? true, failingSince: o.failingSince, unreadable: o.unreadable ?? false, lastError: o.lastError, size: o.size ?? 0, stats: { lists: 1, watches: 2, relists: 0, bookmarks: 0, failures: o.failures ?? 0 } }) as unknown as Reflector;
  const k = new KubeCollector();
  const pools = reflector('inferencepools', 'inference.networking.k8s.io/v1', { size: 2 });
  k.watch(() => [
    pools,
    // One of llm-d's and GIE's groups is missing in most clusters: unreadable, not failing.
    reflector('inferenceobjectives', 'inference.networking.x-k8s.io/v1alpha2', { unreadable: true, lastError: 'the InferenceObjective CRD is not installed' }),
    reflector('httproutes', 'gateway.networking.k8s.io/v1', { failingSince: 1, lastError: 'connect ECONNREFUSED', failures: 4 }),
    reflector('pods', 'v1', { synced: false, selector: 'app=llama' }),
    pools,
  ]);
  const reg = new Registry();
  k.register(reg);
  const text = await reg.metrics();
  assert.equal(sample(text, 'infergate_kube_watch_objects', { resource: 'inferencepools' }), 2);
  assert.equal(sample(text, 'infergate_kube_watch_failing', { resource: 'inferenceobjectives' }), 0);
  assert.equal(sample(text, 'infergate_kube_watch_unreadable', { resource: 'inferenceobjectives', api_version: 'inference.networking.x-k8s.io/v1alpha2' }), 1);
  assert.equal(sample(text, 'infergate_kube_watch_failing', { resource: 'httproutes' }), 1);
  assert.equal(sample(text, 'infergate_kube_watch_unreadable', { resource: 'httproutes' }), 0);
  assert.equal(sample(text, 'infergate_kube_watch_failures_total', { resource: 'httproutes' }), 4);
  assert.equal(sample(text, 'infergate_kube_watch_synced', { resource: 'pods', selector: 'app=llama', namespace: 'llm' }), 0);
  assert.equal(sample(text, 'infergate_kube_watch_lists_total', { resource: 'pods' }), 1);
  assert.equal(text.split('\n').filter((l) => l.startsWith('infergate_kube_watch_objects{resource="inferencepools"')).length, 1);
});
