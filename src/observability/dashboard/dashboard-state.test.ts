import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowlistYaml, podYaml, poolYaml, prefixRouteYaml } from '../../config/manifests.js';
import { snapshotOfFiles } from '../../config/test-fixtures.js';
import { Datastore } from '../../epp/datastore/datastore.js';
import { PoolSchedulers } from '../../epp/pool-schedulers.js';
import { DecisionLog } from '../decision-log.js';
import { DashboardObserver } from './dashboard-observer.js';
import { dashboardState, type DashboardGateway, type DashboardSources } from './dashboard-state.js';

const NOW = 1_700_000_000_000;

/** Two pools: gemma (allowlist ConfigMap for one adapter) and phi (mappings from /v1/models only), in every endpoint state. */
function fixture(readiness: Record<string, unknown> = {}, decisions = new DecisionLog(0)): { sources: DashboardSources; datastore: Datastore } {
  const snapshot = snapshotOfFiles({
    'all.yaml': [
      poolYaml('gemma', { app: 'gemma' }, 8000),
      poolYaml('phi', { app: 'phi' }, 8000),
      prefixRouteYaml('r', '/v1/', 'gemma'),
      allowlistYaml('gemma-allowlist', 'google/gemma', ['sql-lora']),
      podYaml('gemma-0', '127.0.75.2', { app: 'gemma' }),
      podYaml('gemma-1', '127.0.75.3', { app: 'gemma' }),
      podYaml('gemma-2', '127.0.75.4', { app: 'gemma' }, { ready: false }),
      podYaml('phi-0', '127.0.75.5', { app: 'phi' }),
      podYaml('phi-1', '127.0.75.6', { app: 'phi' }),
    ].join('---\n'),
  });
  const datastore = new Datastore();
  datastore.apply(snapshot);
  const schedulers = new PoolSchedulers();
  schedulers.prepare(snapshot).commit();
  const ep = (a: string) => datastore.endpoint(`${a}:8000`)!;
  // gemma-0: serving, with metrics; the pod calls sql-lora's base something else than the ConfigMap does.
  ep('127.0.75.2').setModels([{ id: 'google/gemma', parent: null }, { id: 'sql-lora', parent: 'other/base' }], NOW - 3000);
  ep('127.0.75.2').metrics = { waitingQueueSize: 2, runningQueueSize: 5, kvCacheUsagePercent: 0.42, runningLoras: ['sql-lora'], waitingLoras: [], maxLoras: 4, updatedAt: NOW - 30 };
  // gemma-1: ejected by outlier detection, metrics never scraped.
  ep('127.0.75.3').setModels([{ id: 'google/gemma', parent: null }], NOW - 3000);
  ep('127.0.75.3').outlier.ejectedUntil = NOW + 10_000;
  ep('127.0.75.3').outlier.ejection = { type: 'consecutive_5xx', detail: '5 in a row; last: HTTP 500', at: NOW - 20_000, until: NOW + 10_000, multiplier: 1 };
  // phi-0: serves a base and an adapter its /v1/models names; phi-1 is held out after a connect failure, and has not listed models.
  ep('127.0.75.5').setModels([{ id: 'microsoft/phi', parent: null }, { id: 'code-lora', parent: 'microsoft/phi' }], NOW - 1000);
  ep('127.0.75.6').backoffUntil = NOW + 4000;
  ep('127.0.75.6').modelsError = 'ECONNREFUSED';
  const gateway: DashboardGateway = {
    datastore,
    schedulers,
    state: { snapshot, datastore, schedulers, strictAllowlist: false, responses: 'unrecorded' },
    shuttingDown: false,
    readiness: () => readiness,
  };
  const traffic = new DashboardObserver({ now: () => NOW });
  return {
    datastore,
    sources: { mode: 'serve', gateway, decisions, traffic, rejectedObjects: () => new Map([['HTTPRoute/default/bad', ['spec.rules[0]: unknown field']]]), version: '0.1.0' },
  };
}

test('pools list every selected pod with its state, load and why it is held out', () => {
  const st = dashboardState(fixture().sources, {}, NOW);
  assert.deepEqual(st.pools.map((p) => p.name), ['default/gemma', 'default/phi']);
  const gemma = st.pools[0]!;
  const byPod = new Map(gemma.endpoints.map((e) => [e.pod, e]));
  const g0 = byPod.get('default/gemma-0')!;
  assert.equal(g0.state, 'serving');
  assert.deepEqual([g0.waiting, g0.running, g0.kvCache, g0.scrapeAgeMs, g0.stale], [2, 5, 0.42, 30, false]);
  assert.deepEqual(g0.loras, { running: ['sql-lora'], waiting: [], max: 4 });
  const g1 = byPod.get('default/gemma-1')!;
  assert.equal(g1.state, 'ejected');
  assert.match(g1.reason!, /ejected by outlier detection .*5 in a row/);
  assert.equal(g1.stale, true, 'never scraped');
  assert.equal(g1.lastEjection?.type, 'consecutive_5xx');
  const g2 = byPod.get('default/gemma-2')!;
  assert.deepEqual([g2.state, g2.address, g2.reason], ['not ready', null, 'pod is not Ready']);
  const phi1 = st.pools[1]!.endpoints.find((e) => e.pod === 'default/phi-1')!;
  assert.equal(phi1.state, 'held out');
  assert.match(phi1.reason!, /held out for 4000 ms after a connection failure/);
  assert.equal(gemma.endpointPickerConfig !== null, true);
});

test('an endpoint whose scrapes keep failing, its metrics stale, shows as unreachable with the errors, not as serving', () => {
  const f = fixture();
  const g0 = f.datastore.endpoint('127.0.75.2:8000')!;
  g0.metrics!.updatedAt = NOW - 60_000;
  g0.metricsError = 'connect ECONNREFUSED 127.0.75.2:8000';
  g0.modelsError = 'connect ECONNREFUSED 127.0.75.2:8000';
  for (let i = 0; i < 2; i++) g0.scrapeRetry.failed(NOW, 50, 1000);
  const view = (): { state: string; reason?: string } => dashboardState(f.sources, {}, NOW).pools[0]!.endpoints.find((e) => e.pod === 'default/gemma-0')!;
  assert.equal(view().state, 'serving', 'two failures in a row are not yet unreachable');
  g0.scrapeRetry.failed(NOW, 50, 1000);
  assert.equal(view().state, 'unreachable');
  assert.match(view().reason!, /its last 3 \/metrics scrapes failed \(connect ECONNREFUSED .*\), and GET \/v1\/models fails/);
  g0.scrapeRetry.succeeded();
  g0.metrics!.updatedAt = NOW;
  assert.equal(view().state, 'serving', 'back after a scrape succeeds');
});

test('each served model says where its mapping came from: the allowlist ConfigMap wins over the pod', () => {
  const st = dashboardState(fixture().sources, {}, NOW);
  const g0 = st.pools[0]!.endpoints.find((e) => e.pod === 'default/gemma-0')!;
  assert.deepEqual(g0.models, [
    { id: 'google/gemma', base: 'google/gemma', adapter: false, mappedBy: 'ConfigMap default/gemma-allowlist' },
    { id: 'sql-lora', base: 'google/gemma', adapter: true, mappedBy: 'ConfigMap default/gemma-allowlist', conflict: 'the pod reports base other/base; ConfigMap default/gemma-allowlist wins' },
  ]);
  const phi0 = st.pools[1]!.endpoints.find((e) => e.pod === 'default/phi-0')!;
  assert.deepEqual(phi0.models.map((m) => [m.id, m.base, m.mappedBy]), [
    ['microsoft/phi', 'microsoft/phi', 'GET /v1/models'],
    ['code-lora', 'microsoft/phi', 'GET /v1/models (parent)'],
  ]);
  const models = new Map(st.models.map((m) => [m.model, m]));
  assert.equal(models.get('code-lora')?.source, 'GET /v1/models of pod default/phi-0');
  assert.deepEqual(models.get('code-lora')?.pods, ['default/phi-0']);
  assert.equal(models.get('sql-lora')?.source, 'ConfigMap default/gemma-allowlist');
});

test('config issues: rejected objects, warnings and the readiness details (a held-back edit)', () => {
  const held = { config: { held: { reasons: ['removes 2 of 2 pools'], held_since: 'x', applies_at: 'y', change: {}, to_confirm: 'a', to_cancel: 'b' } } };
  const st = dashboardState(fixture(held).sources, {}, NOW);
  assert.deepEqual(st.issues.rejectedObjects, [{ object: 'HTTPRoute/default/bad', problems: ['spec.rules[0]: unknown field'] }]);
  assert.deepEqual(st.issues.readiness, held);
  assert.ok(Array.isArray(st.issues.warnings));
  assert.equal(st.configVersion !== null && st.ready, true);
});

test('traffic: series over the asked window, the last minute, recent requests', () => {
  const { sources } = fixture();
  const r = { requestId: 'i', startTime: NOW, startedAt: 0, method: 'POST', path: '/v1/completions', priority: 0, attempts: 1, stream: false, requestBytes: 1, responseBytes: 1, tokenEvents: 0, attemptLog: [], status: 200, endedAt: 30, model: 'google/gemma' };
  sources.traffic.ended(r);
  sources.traffic.ended({ ...r, status: 404, errorCode: 'model_not_found', model: 'nope' });
  const st = dashboardState(sources, { windowS: 120 }, NOW);
  assert.equal(st.traffic.series.t.length, 120);
  assert.equal(st.traffic.series.requests.at(-1), 2);
  assert.equal(st.traffic.lastMinute.requests, 2);
  assert.deepEqual(st.traffic.lastMinute.errorCodes, [['model_not_found', 1]]);
  assert.equal(st.traffic.total, 2);
  assert.deepEqual(st.traffic.recent.map((x) => x.model), ['nope', 'google/gemma']);
  assert.match(st.traffic.source, /every request this gateway answered/);
  // Out-of-range windows are clamped to the ring, never refused.
  assert.equal(dashboardState(sources, { windowS: 1e9, stepS: 1 }, NOW).traffic.series.t.length, 600);
});

test('decisions: off says how to turn them on; on lists the latest with their scores', () => {
  const off = dashboardState(fixture().sources, {}, NOW).decisions;
  assert.equal(off.enabled, false);
  assert.match(off.howToEnable!, /--debug-decisions N/);
  const log = new DecisionLog(5);
  const trace = { profile: 'default', candidates: ['a'], filters: [], scored: ['a'], scorers: [{ name: 'queue-scorer', type: 'queue-scorer', weight: 2, scores: [1] }], totals: [2], picked: 'a' };
  for (let i = 0; i < 3; i++) log.record({ time: new Date(NOW).toISOString(), requestId: `r${i}`, pool: 'default/gemma', model: `m${i}`, priority: 0, picked: 'a', profiles: [trace] });
  const on = dashboardState(fixture({}, log).sources, { decisions: 2 }, NOW).decisions;
  assert.equal(on.howToEnable, null);
  assert.deepEqual(on.latest.map((d) => d.model), ['m2', 'm1']);
  assert.equal(on.latest[0]!.profiles[0]!.scorers[0]!.weight, 2);
  assert.match(on.latest[0]!.requestId, /^h:/, 'request ids stay hashed');
  assert.deepEqual(dashboardState(fixture({}, log).sources, { decisions: 0 }, NOW).decisions.latest, [], '?decisions=0 asks for none');
  assert.equal(dashboardState(fixture({}, log).sources, { decisions: 500 }, NOW).decisions.latest.length, 3, 'at most 100, and what is kept');
});

test('extproc says where its numbers come from', () => {
  const { sources } = fixture();
  const st = dashboardState({ ...sources, mode: 'extproc' }, {}, NOW);
  assert.match(st.traffic.source, /endpoint picker handled for Envoy/);
  assert.match(st.decisions.howToEnable!, /infergate extproc with --debug-decisions N/);
});

test('each pool says who picks its endpoints: infergate, or an external picker with where it is asked and its failureMode', () => {
  const snapshot = snapshotOfFiles({
    'all.yaml': [
      poolYaml('own', { app: 'own' }, 8000),
      `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: theirs}
spec:
  selector: {matchLabels: {app: theirs}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: llm-d-epp, port: {number: 9002}, failureMode: FailOpen}
`,
      `apiVersion: v1
kind: Service
metadata: {name: llm-d-epp}
spec: {clusterIP: 10.0.0.40, ports: [{name: grpc, port: 9002}]}
`,
    ].join('---\n'),
  });
  const datastore = new Datastore();
  datastore.apply(snapshot);
  const schedulers = new PoolSchedulers(undefined, undefined, { eppServiceName: 'infergate' });
  schedulers.prepare(snapshot).commit();
  const gateway: DashboardGateway = { datastore, schedulers, state: { snapshot, datastore, schedulers, strictAllowlist: false, responses: 'unrecorded' }, shuttingDown: false, readiness: () => ({}) };
  const st = dashboardState({ mode: 'serve', gateway, decisions: new DecisionLog(0), traffic: new DashboardObserver({ now: () => NOW }) }, {}, NOW);
  const by = new Map(st.pools.map((p) => [p.name, p.picker]));
  assert.equal(by.get('default/own')!.by, 'infergate');
  assert.deepEqual(by.get('default/theirs'), { by: 'external', detail: 'Service default/llm-d-epp, asked over ext_proc at 10.0.0.40:9002; failureMode FailOpen' });
});

test('pools whose scheduler reads no KV events have no kvEvents, nor do their endpoints', () => {
  const st = dashboardState(fixture().sources, {}, NOW);
  assert.deepEqual(st.pools.map((p) => p.kvEvents), [null, null]);
  assert.ok(st.pools.every((p) => p.endpoints.every((e) => e.kvEvents === undefined)));
});
