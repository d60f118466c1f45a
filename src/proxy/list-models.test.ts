/** The gateway's model list and cards: what the pods of the pools the HTTPRoutes reach serve, nothing else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseModelRouteYaml, podYaml, poolYaml, prefixRouteYaml } from '../config/manifests.js';
import { snapshotOfFiles } from '../config/test-fixtures.js';
import { Datastore } from '../epp/datastore/datastore.js';
import { PoolSchedulers } from '../epp/pool-schedulers.js';
import { GatewayError } from '../errors.js';
import { planRoute, type GatewayState } from '../plan/plan-request.js';
import { listModels, retrieveModel } from './list-models.js';

const GEMMA = 'google/gemma-2b-it';
const PHI = 'microsoft/Phi-3-mini-4k-instruct';

/** Two pools whose pods have answered GET /v1/models; `routes` decides which of them an HTTPRoute reaches. */
function state(routes: string[]): GatewayState {
  const snapshot = snapshotOfFiles({
    'all.yaml': [
      poolYaml('gemma', { app: 'gemma' }, 8000),
      poolYaml('phi', { app: 'phi' }, 8000),
      podYaml('gemma-0', '127.0.21.2', { app: 'gemma' }),
      podYaml('phi-0', '127.0.21.4', { app: 'phi' }),
      ...routes,
    ].join('---\n'),
  });
  const datastore = new Datastore();
  datastore.apply(snapshot);
  datastore.endpoint('127.0.21.2:8000')!.setModels([{ id: GEMMA, parent: null }, { id: 'gemma-sql-lora', parent: GEMMA }], 0);
  datastore.endpoint('127.0.21.4:8000')!.setModels([{ id: PHI, parent: null }, { id: 'phi3-code-lora', parent: PHI }], 0);
  return { snapshot, datastore, schedulers: new PoolSchedulers(), strictAllowlist: false, responses: 'unrecorded' };
}

function ids(s: GatewayState, host?: string): string[] {
  return listModels(s, host).data.map((m) => m.id);
}

test('GET /v1/models lists the models of every pool an HTTPRoute sends to', () => {
  const s = state([baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]), baseModelRouteYaml('phi', PHI, [['phi', 1]])]);
  assert.deepEqual(ids(s), ['gemma-sql-lora', GEMMA, PHI, 'phi3-code-lora']);
});

test('a pool no HTTPRoute sends to (no route, or only weight 0) is left out of the list, and its card is a 404 that says why', () => {
  for (const routes of [[baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]])], [baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]), baseModelRouteYaml('phi', PHI, [['phi', 0]])]]) {
    const s = state(routes);
    assert.deepEqual(ids(s), ['gemma-sql-lora', GEMMA]);
    assert.equal(retrieveModel(s, 'gemma-sql-lora').id, 'gemma-sql-lora');
    assert.throws(
      () => retrieveModel(s, 'phi3-code-lora'),
      (e) => e instanceof GatewayError && e.code === 'model_not_found' && e.status === 404 && /served by pod default\/phi-0, but no HTTPRoute this gateway serves sends requests to an InferencePool selecting it/.test(e.message),
    );
  }
});

test("a route's hostnames limit its pools' models to requests for those hosts", () => {
  const phiOnApi = baseModelRouteYaml('phi', PHI, [['phi', 1]]).replace('spec:\n', 'spec:\n  hostnames: ["api.example.com"]\n');
  assert.match(phiOnApi, /hostnames/);
  const s = state([baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]), phiOnApi]);
  assert.deepEqual(ids(s, 'api.example.com:8080'), ['gemma-sql-lora', GEMMA, PHI, 'phi3-code-lora']);
  assert.deepEqual(ids(s, 'other.example.com'), ['gemma-sql-lora', GEMMA]);
  assert.deepEqual(ids(s), ['gemma-sql-lora', GEMMA]);
  assert.equal(retrieveModel(s, encodeURIComponent(PHI), undefined, 'api.example.com').id, PHI);
  assert.throws(() => retrieveModel(s, encodeURIComponent(PHI), undefined, 'other.example.com'), /for Host other\.example\.com/);
});

test("an unknown model's 404 lists as served what GET /v1/models lists, not the models of pools no route reaches", () => {
  const s = state([baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]), prefixRouteYaml('rest', '/v1/', 'gemma')]);
  const plan = planRoute(s, { method: 'POST', path: '/v1/completions', query: new URLSearchParams(), headers: new Map([['content-type', 'application/json']]), body: Buffer.from('{"model":"nope","prompt":"hi"}') });
  assert.equal(plan.error?.code, 'model_not_found');
  assert.match(plan.error.message, /Served models: gemma-sql-lora, google\/gemma-2b-it\./);
});
