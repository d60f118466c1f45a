/**
 * `--api-keys` and the Responses API's stored responses, with the official `openai` client: a model server keeps
 * no owner with a stored response, so the gateway keeps one tenant from retrieving, deleting or continuing
 * another's; each gets the 404 of an unknown response. A simulated pod on 127.0.220.2, the gateway on 127.0.220.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { failure } from '../helpers/openai-failure.js';
import { testTenancy, type TestKey } from '../helpers/tenancy.js';

const M = 'Qwen/Qwen3-8B';
const KEYS: TestKey[] = [
  { key: 'ig-resp-a', name: 'team-a', models: ['*'] },
  { key: 'ig-resp-a2', name: 'team-a', models: ['*'] },
  { key: 'ig-resp-b', name: 'team-b', models: ['*'] },
];

let fleet: Fleet;
let cfg: TempConfig;
let keysDir: string;
let gw: RunningGateway;
const client = (apiKey: string): OpenAI => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });

before(async () => {
  fleet = await startFleet(220, [{ name: 'qwen-0', labels: {}, model: M, ttftMs: 1, itlMs: 1 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('qwen-0', fleet.ipOf('qwen-0'), { app: 'qwen' }), poolYaml('qwen', { app: 'qwen' }, fleet.port), baseModelRouteYaml('qwen', M, [['qwen', 1]])].join('---\n') });
  keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  gw = await startTestGateway(cfg.dir, { host: '127.0.220.1', tenancy: await testTenancy(keysDir, KEYS) });
  assert.ok(await waitFor(async () => (await client('ig-resp-a').models.list()).data.length === 1));
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

const create = (apiKey: string, extra: { previous_response_id?: string } = {}) => client(apiKey).responses.create({ model: M, input: "team a's plan", max_output_tokens: 3, store: true, ...extra });

test("another tenant's stored response is not found: retrieve, delete and follow-up get 404, the owner's keys still reach it", async () => {
  const created = await create('ig-resp-a');
  // Before, team-b read it (200, team a's answer), deleted it, and continued the conversation from it.
  const retrieved = await failure(client('ig-resp-b').responses.retrieve(created.id));
  assert.equal(retrieved.status, 404);
  assert.equal(retrieved.code, 'response_not_found');
  assert.match(retrieved.message, /is not known to this gateway/);
  assert.equal((await failure(client('ig-resp-b').responses.delete(created.id))).status, 404);
  const followUp = await failure(create('ig-resp-b', { previous_response_id: created.id }));
  assert.equal(followUp.status, 404);
  assert.equal(followUp.code, 'response_not_found');
  assert.match(followUp.message, /previous_response_id `resp_\w+` is not a response of tenant team-b/);
  // Every key of the tenant that created it (key rotation: old and new side by side) reaches it.
  assert.equal((await client('ig-resp-a2').responses.retrieve(created.id)).id, created.id);
  assert.equal((await create('ig-resp-a2', { previous_response_id: created.id })).status, 'incomplete');
  await client('ig-resp-a').responses.delete(created.id);
  // Its deletion is the owner's to learn; to another tenant it is as unknown as before.
  assert.match((await failure(client('ig-resp-a').responses.retrieve(created.id))).message, /was deleted through this gateway/);
  assert.match((await failure(client('ig-resp-b').responses.retrieve(created.id))).message, /is not known to this gateway/);
});

/** A tenant's `infergate_tenant_tokens_total` of one type. */
async function tenantTokens(tenant: string, type: 'prompt' | 'completion'): Promise<number> {
  const m = new RegExp(`^infergate_tenant_tokens_total\\{tenant="${tenant}",type="${type}"\\} (\\d+)`, 'm').exec(await gw.metrics.registry.metrics());
  return m ? Number(m[1]) : 0;
}

test("polling a stored response (retrieve, as a client waits on a background one) does not charge its tokens again to the tenant's limits", async () => {
  const before = await tenantTokens('team-a', 'completion');
  const first = await create('ig-resp-a');
  const used = first.usage!.output_tokens;
  assert.ok(used > 0);
  assert.ok(await waitFor(async () => (await tenantTokens('team-a', 'completion')) === before + used));
  // Before, each retrieval added the response's usage again, as if the pod had generated it anew.
  for (let i = 0; i < 5; i++) assert.equal((await client('ig-resp-a').responses.retrieve(first.id)).usage?.output_tokens, used);
  // A second creation is counted once, and the polls before it not at all (they ended before it was sent).
  const second = await create('ig-resp-a');
  const expected = before + used + second.usage!.output_tokens;
  assert.ok(await waitFor(async () => (await tenantTokens('team-a', 'completion')) === expected), `tokens ${await tenantTokens('team-a', 'completion')}, expected ${expected}`);
});
