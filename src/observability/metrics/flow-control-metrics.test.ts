/** FlowControlMetrics: llm-d's flow-control families (names, help, buckets, labels) and GIE's twins, fed by a real controller. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { BoundedLabel } from './bounded-label.js';
import { sample } from './test-fixtures.js';
import { FlowControlMetrics } from './flow-control-metrics.js';
import { FlowController } from '../../flowcontrol/flow-controller.js';
import { FlowControl } from '../../flowcontrol/flow-control.js';
import { flowControlReport } from '../../flowcontrol/flow-control-report.js';
import { band, config, endpoints } from '../../flowcontrol/test-fixtures.js';
import { eppConfigMapYaml, podYaml, poolYaml } from '../../config/manifests.js';
import { snapshotOfFiles } from '../../config/test-fixtures.js';
import { Datastore } from '../../epp/datastore/datastore.js';
import { PoolSchedulers } from '../../epp/pool-schedulers.js';

async function exposition(m: FlowControlMetrics): Promise<string> {
  const registry = new Registry();
  m.register(registry);
  return registry.metrics();
}

/** A pool taking one request at a time with a band of two: one goes at once, one waits, one is refused. */
async function loaded(): Promise<string> {
  const m = new FlowControlMetrics(new BoundedLabel(1000), new BoundedLabel(1000));
  const fc = new FlowController('default/pool', config({ defaultBand: band({ maxRequests: 1 }) }), () => endpoints(1), m);
  assert.equal(fc.admit({ fairnessId: 'tenant-a', priority: 0, bytes: 10 }), undefined);
  const queued = fc.admit({ fairnessId: 'tenant-a', priority: 0, bytes: 10 });
  assert.ok(queued);
  assert.throws(() => fc.admit({ fairnessId: 'tenant-b', priority: 0, bytes: 10 }));
  fc.cancel(queued);
  await queued.done.catch(() => undefined);
  return exposition(m);
}

test("llm-d's help texts and buckets, and GIE v1.5's twins of the dispatch cycle and enqueue histograms", async () => {
  const text = await loaded();
  const help = (name: string): string | undefined => new RegExp(`^# HELP ${name} (.*)$`, 'm').exec(text)?.[1];
  // pkg/epp/metrics of llm-d-router (ANCHORS §2b): the [ALPHA] stability prefix and its words.
  assert.equal(help('llm_d_epp_flow_control_request_queue_duration_seconds'), '[ALPHA] Distribution of total time requests spend in the Flow Control layer (from enqueue to final outcome).');
  assert.equal(help('llm_d_epp_flow_control_dispatch_cycle_duration_seconds'), '[ALPHA] Distribution of time taken for each internal dispatch cycle in the Flow Control layer.');
  assert.equal(help('llm_d_epp_flow_control_request_enqueue_duration_seconds'), '[ALPHA] Distribution of time taken to enqueue requests into the Flow Control layer.');
  assert.equal(help('llm_d_epp_flow_control_queue_size'), '[ALPHA] Current number of requests actively held in the Flow Control queue.');
  assert.equal(help('llm_d_epp_flow_control_queue_bytes'), '[ALPHA] Current total size in bytes of requests actively held in the Flow Control queue.');
  assert.equal(help('llm_d_epp_flow_control_requests_total'), '[ALPHA] Total number of requests processed by the Flow Control layer.');
  assert.equal(help('inference_extension_flow_control_dispatch_cycle_duration_seconds'), '[ALPHA] [Deprecated: Use llm_d_epp_flow_control_dispatch_cycle_duration_seconds] Distribution of time taken for each internal dispatch cycle in the Flow Control layer.');
  assert.equal(help('inference_extension_flow_control_request_enqueue_duration_seconds'), '[ALPHA] [Deprecated: Use llm_d_epp_flow_control_request_enqueue_duration_seconds] Distribution of time taken to enqueue requests into the Flow Control layer.');
  // Queue time's buckets end at 60 s, the default TTL, as llm-d's.
  const bounds = [...text.matchAll(/^llm_d_epp_flow_control_request_queue_duration_seconds_bucket\{le="([^"]+)"[^}]*outcome="Dispatched"/gm)].map((m) => m[1]);
  assert.deepEqual(bounds, ['0.0001', '0.0005', '0.001', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '+Inf']);
});

test('the enqueue step is observed once per admission, by fairness id, priority and outcome', async () => {
  const text = await loaded();
  const enqueue = { fairness_id: 'tenant-a', priority: '0' };
  assert.equal(sample(text, 'llm_d_epp_flow_control_request_enqueue_duration_seconds_count', { ...enqueue, outcome: 'Dispatched' }), 1);
  assert.equal(sample(text, 'llm_d_epp_flow_control_request_enqueue_duration_seconds_count', { ...enqueue, outcome: 'NotYetFinalized' }), 1);
  assert.equal(sample(text, 'llm_d_epp_flow_control_request_enqueue_duration_seconds_count', { fairness_id: 'tenant-b', priority: '0', outcome: 'RejectedCapacity' }), 1);
  assert.equal(sample(text, 'inference_extension_flow_control_request_enqueue_duration_seconds_count', { ...enqueue, outcome: 'NotYetFinalized' }), 1);
  // The queue's own time: one dispatched at once, one cancelled while waiting, one refused.
  assert.equal(sample(text, 'llm_d_epp_flow_control_requests_total', { outcome: 'Dispatched' }), 1);
  assert.equal(sample(text, 'llm_d_epp_flow_control_requests_total', { outcome: 'EvictedContextCancelled' }), 1);
  assert.equal(sample(text, 'llm_d_epp_flow_control_requests_total', { outcome: 'RejectedCapacity' }), 1);
});

test("inference_pool is the pool's name, as llm-d's EPP (--pool-name) reports it; namespace/name when two namespaces share it", async () => {
  const m = new FlowControlMetrics(new BoundedLabel(1000), new BoundedLabel(1000));
  m.setPools(['default/gemma', 'team-a/qwen', 'team-b/qwen']);
  for (const pool of ['default/gemma', 'team-a/qwen']) m.left(pool, { fairnessId: 'f', priority: 0 }, 'Dispatched', 0);
  const text = await exposition(m);
  assert.equal(sample(text, 'llm_d_epp_flow_control_requests_total', { inference_pool: 'gemma' }), 1);
  assert.equal(sample(text, 'llm_d_epp_flow_control_requests_total', { inference_pool: 'team-a/qwen' }), 1);
});

test('pool_saturation and /debug/flow-control read the pool at the scrape: a pool gone idle is not left saturated', async () => {
  // One pod taking one request at a time (concurrency-detector), flow control on through the pool's ConfigMap.
  const epp = 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\nfeatureGates: [flowControl]\nplugins:\n- type: concurrency-detector\n  parameters: {maxConcurrency: 1}\nflowControl:\n  saturationDetector: {pluginRef: concurrency-detector}\n';
  const pool = poolYaml('pool', { app: 'fc' }, 8000).replace('  namespace: default\n', '  namespace: default\n  annotations: {infergate.io/endpoint-picker-config: fc}\n');
  const snapshot = snapshotOfFiles({ 'all.yaml': [podYaml('p0', '127.0.240.9', { app: 'fc' }), pool, eppConfigMapYaml('fc', epp)].join('---\n') });
  const datastore = new Datastore();
  datastore.apply(snapshot);
  const schedulers = new PoolSchedulers();
  schedulers.prepare(snapshot).commit();
  const m = new FlowControlMetrics(new BoundedLabel(1000), new BoundedLabel(1000));
  m.setPools(['default/pool']);
  const fc = new FlowControl();
  m.attach(fc);
  fc.reconcile(schedulers, datastore);
  const c = fc.controller('default/pool');
  assert.ok(c, 'flow control is on for the pool');
  const flow = { fairnessId: 'tenant-a', priority: 0 };
  // One request holds the pool's only slot; the next waits (the pool reads saturated), then its client leaves.
  assert.equal(c.admit({ ...flow, bytes: 10 }), undefined);
  const waiting = c.admit({ ...flow, bytes: 10 });
  assert.ok(waiting);
  assert.equal(sample(await exposition(m), 'llm_d_epp_flow_control_pool_saturation', { inference_pool: 'pool', stage: 'effective' }), 1);
  c.cancel(waiting);
  await waiting.done.catch(() => undefined);
  // The request in flight ends: nothing waits, nothing runs.
  c.release(flow);
  const text = await exposition(m);
  assert.equal(sample(text, 'llm_d_epp_flow_control_pool_saturation', { inference_pool: 'pool', stage: 'effective' }), 0);
  assert.equal(sample(text, 'inference_extension_flow_control_pool_saturation', { inference_pool: 'pool' }), 0);
  assert.deepEqual(flowControlReport(fc)[0]?.saturation, { level: 0, dispatching: true, staleEndpoints: 0 });
});

test('a queue that empties reads 0, as llm-d\'s gauges do, rather than vanishing; its series go with its pool\'s flow control', async () => {
  const epp = 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\nfeatureGates: [flowControl]\nplugins:\n- type: concurrency-detector\n  parameters: {maxConcurrency: 1}\nflowControl:\n  saturationDetector: {pluginRef: concurrency-detector}\n';
  const pool = poolYaml('pool', { app: 'fc' }, 8000).replace('  namespace: default\n', '  namespace: default\n  annotations: {infergate.io/endpoint-picker-config: fc}\n');
  const snapshot = snapshotOfFiles({ 'all.yaml': [podYaml('p0', '127.0.240.9', { app: 'fc' }), pool, eppConfigMapYaml('fc', epp)].join('---\n') });
  const datastore = new Datastore();
  datastore.apply(snapshot);
  const schedulers = new PoolSchedulers();
  schedulers.prepare(snapshot).commit();
  const m = new FlowControlMetrics(new BoundedLabel(1000), new BoundedLabel(1000));
  m.setPools(['default/pool']);
  const fc = new FlowControl();
  m.attach(fc);
  fc.reconcile(schedulers, datastore);
  const c = fc.controller('default/pool');
  assert.ok(c);
  const flow = { fairnessId: 'tenant-a', priority: 0, model: 'm', target: 'm' };
  const labels = { fairness_id: 'tenant-a', priority: '0', inference_pool: 'pool', model_name: 'm', target_model_name: 'm' };
  assert.equal(c.admit({ ...flow, bytes: 10 }), undefined);
  const waiting = c.admit({ ...flow, bytes: 10 });
  assert.ok(waiting);
  let text = await exposition(m);
  assert.equal(sample(text, 'llm_d_epp_flow_control_queue_size', labels), 1);
  assert.equal(sample(text, 'llm_d_epp_flow_control_queue_bytes', labels), 10);
  c.cancel(waiting);
  await waiting.done.catch(() => undefined);
  c.release(flow);
  text = await exposition(m);
  for (const family of ['llm_d_epp_flow_control_queue_size', 'llm_d_epp_flow_control_queue_bytes', 'inference_extension_flow_control_queue_size', 'inference_extension_flow_control_queue_bytes']) {
    assert.equal(sample(text, family, labels), 0, `${family} reads 0 once the queue is empty`);
  }
  // Flow control turned off for the pool: its controller goes, and its queue series with it.
  fc.reconcile(new PoolSchedulers(), datastore);
  assert.doesNotMatch(await exposition(m), /^llm_d_epp_flow_control_queue_size\{/m);
});
