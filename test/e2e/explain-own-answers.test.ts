/**
 * explain and serve agree on the requests the gateway answers itself (its health and readiness, the model list
 * and cards, a blocked admin path, a method /v1/models does not take): each case is explained, then sent to a
 * running gateway on the same files, and the status and error code compared. Simulated pod on 127.0.222.2,
 * gateway on 127.0.222.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { explainRequest } from '../../src/cli/explain.js';
import { renderPlan } from '../../src/cli/render-plan.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';

const GEMMA = 'google/gemma-2b-it';

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
before(async () => {
  fleet = await startFleet(222, [{ name: 'gemma-0', labels: {}, model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 1, itlMs: 1 }]);
  cfg = await tempConfig({ 'config.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]])].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: '127.0.222.1' });
  // The list is the pods' own: wait until discovery has asked the pod.
  assert.ok(await waitFor(() => gw.gateway.datastore.catalog().models.has('gemma-sql-lora')), 'the pod was never discovered');
});
after(async () => {
  await gw.close();
  await cfg.remove();
  await fleet.close();
});

const CASES: { method: string; path: string; body?: string; explained: RegExp }[] = [
  { method: 'GET', path: '/healthz', explained: /answered by the gateway itself.*200 \{"status":"ok"\}/ },
  { method: 'GET', path: '/readyz', explained: /answered by the gateway itself.*"config_version"/ },
  { method: 'GET', path: '/v1/models', explained: /answered by the gateway itself.*200, the 2 model\(s\).*\(gemma-sql-lora, google\/gemma-2b-it\)/ },
  { method: 'GET', path: '/v1/models/gemma-sql-lora', explained: /the card of gemma-sql-lora, an adapter of google\/gemma-2b-it/ },
  { method: 'GET', path: '/v1/models/google%2Fgemma-2b-it', explained: /the card of google\/gemma-2b-it$/ },
  { method: 'GET', path: '/v1/models/nope', explained: /error 404 model_not_found/ },
  { method: 'DELETE', path: '/v1/models/gemma-sql-lora', explained: /error 405 method_not_allowed/ },
  { method: 'POST', path: '/v1/load_lora_adapter', body: '{"lora_name":"x","lora_path":"/x"}', explained: /error 403 admin_path_blocked/ },
];

for (const c of CASES) {
  test(`explain and serve agree: ${c.method} ${c.path}`, async () => {
    const plan = await explainRequest({ configPath: cfg.dir, method: c.method, path: c.path, body: c.body ?? '', headers: [] });
    const text = renderPlan(plan).join('\n');
    assert.match(text, c.explained);
    assert.doesNotMatch(text, /route_not_found/);
    const res = await request(`${gw.url}${c.path}`, { method: c.method as 'GET', ...(c.body !== undefined ? { body: c.body, headers: { 'content-type': 'application/json' } } : {}) });
    const body = (await res.body.json()) as { error?: { code?: string } };
    assert.equal(res.statusCode, plan.error?.status ?? 200, text);
    assert.equal(body.error?.code, plan.error?.code, text);
  });
}

test('explain --allow-admin-paths, as serve: the admin path is routed on its path and headers', async () => {
  const plan = await explainRequest({ configPath: cfg.dir, path: '/v1/load_lora_adapter', body: '{"lora_name":"x","lora_path":"/x"}', headers: [], allowAdminPaths: ['/v1/load_lora_adapter'] });
  assert.match(renderPlan(plan).join('\n'), /model server admin path allowed by --allow-admin-paths/);
  assert.notEqual(plan.error?.code, 'admin_path_blocked');
});
