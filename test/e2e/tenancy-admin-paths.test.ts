/**
 * `--allow-admin-paths` with `--api-keys`: the flag says which admin paths go on at all, a key's `allowAdminPaths`
 * whose requests they take. A tenant's key without it gets 403 admin_path_blocked and the pod is never asked; an
 * operator's key with it unloads the adapter. Simulated pod on 127.0.239.2, the gateway on 127.0.239.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { testTenancy } from '../helpers/tenancy.js';

const BASE = 'google/gemma-2b-it';

let fleet: Fleet;
let cfg: TempConfig;
let keysDir: string;
let gw: RunningGateway;

before(async () => {
  fleet = await startFleet(239, [{ name: 'gemma-0', labels: {}, model: BASE, loras: ['sql-lora', 'chat-lora'], ttftMs: 1, itlMs: 1 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), prefixRouteYaml('all', '/', 'gemma')].join('---\n') });
  keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  const tenancy = await testTenancy(keysDir, [
    { key: 'ig-team', name: 'team', models: ['*'] },
    { key: 'ig-ops', name: 'ops', models: ['*'], extra: { allowAdminPaths: true } },
  ]);
  gw = await startTestGateway(cfg.dir, { host: '127.0.239.1', adminHost: '127.0.239.1', tenancy, allowAdminPaths: ['/v1/unload_lora_adapter'] });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

async function podModels(): Promise<string[]> {
  const list = (await (await fetch(`${fleet.sims.get('gemma-0')!.url}/v1/models`)).json()) as { data: { id: string }[] };
  return list.data.map((m) => m.id).sort();
}

const unload = (key: string, lora: string): Promise<Response> =>
  fetch(`${gw.url}/v1/unload_lora_adapter`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ lora_name: lora }) });

test("a key without allowAdminPaths gets 403 admin_path_blocked on an allowed admin path, and the pod is not asked", async () => {
  const r = await unload('ig-team', 'chat-lora');
  assert.equal(r.status, 403);
  const err = (await r.json()) as { error: { code: string; type: string; message: string } };
  assert.equal(err.error.code, 'admin_path_blocked');
  assert.equal(err.error.type, 'permission_error');
  assert.match(err.error.message, /tenant team .*allowAdminPaths: true/);
  assert.deepEqual(await podModels(), [BASE, 'chat-lora', 'sql-lora'].sort());
  assert.match(await gw.metrics.registry.metrics(), /infergate_tenant_rejections_total\{tenant="team",reason="admin_path_blocked"\} 1/);
});

test('a key with allowAdminPaths: true calls it', async () => {
  const r = await unload('ig-ops', 'chat-lora');
  assert.equal(r.status, 200, await r.text());
  assert.deepEqual(await podModels(), [BASE, 'sql-lora'].sort());
});
