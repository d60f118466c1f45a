/** HTTP tests for LoRA load/unload and failure injection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, testSimulator } from './test-kit.js';
import { SIMULATED_VLLM_VERSION } from './sim-routes.js';

type ErrorBody = { error: { message: string; type: string; param: string | null; code: number } };

test('load_lora_adapter / unload_lora_adapter change what is served, with vLLM\'s answers', async (t) => {
  const sim = await testSimulator(t, { loras: ['a'], itlMs: 1 });
  const load = await postJson(sim, '/v1/load_lora_adapter', { lora_name: 'b', lora_path: '/adapters/b' });
  assert.equal(load.status, 200);
  assert.equal(await load.text(), "Success: LoRA adapter 'b' added successfully.");

  const models = (await (await fetch(`${sim.url}/v1/models`)).json()) as { data: Array<{ id: string; root: string; parent: string | null }> };
  assert.deepEqual(models.data.map((m) => [m.id, m.root, m.parent]), [
    ['base-model', 'base-model', null],
    ['a', 'a', 'base-model'],
    ['b', '/adapters/b', 'base-model'],
  ]);
  const served = await postJson(sim, '/v1/completions', { model: 'b', prompt: 'x', max_tokens: 1 });
  assert.equal(served.status, 200);
  await served.json();

  const errors: Array<[string, unknown, number, string, RegExp]> = [
    ['/v1/load_lora_adapter', { lora_name: 'b', lora_path: '/other' }, 400, 'InvalidUserInput', /The lora adapter 'b' has already been loaded\./],
    ['/v1/load_lora_adapter', { lora_name: 'base-model', lora_path: '/x' }, 400, 'InvalidUserInput', /already been loaded/],
    ['/v1/load_lora_adapter', { lora_name: 'c' }, 400, 'InvalidUserInput', /Both 'lora_name' and 'lora_path' must be provided\./],
    ['/v1/unload_lora_adapter', {}, 400, 'InvalidUserInput', /either 'lora_name' and 'lora_int_id'/],
    ['/v1/unload_lora_adapter', { lora_name: 'zzz' }, 404, 'NotFoundError', /The lora adapter 'zzz' cannot be found\./],
  ];
  for (const [path, body, status, type, message] of errors) {
    const res = await postJson(sim, path, body);
    assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
    const { error } = (await res.json()) as ErrorBody;
    assert.equal(error.type, type);
    assert.equal(error.code, status);
    assert.match(error.message, message);
  }

  const unload = await postJson(sim, '/v1/unload_lora_adapter', { lora_name: 'b' });
  assert.equal(unload.status, 200);
  assert.equal(await unload.text(), "Success: LoRA adapter 'b' removed successfully.");
  const gone = await postJson(sim, '/v1/completions', { model: 'b', prompt: 'x', max_tokens: 1 });
  assert.equal(gone.status, 404);
  await gone.body?.cancel();
  const wrongMethod = await fetch(`${sim.url}/v1/load_lora_adapter`);
  assert.equal(wrongMethod.status, 405);
  await wrongMethod.body?.cancel();
});

test('failure injection at rate 100 with one type answers every generation with that error, and nothing else', async (t) => {
  const sim = await testSimulator(t, { failureInjectionRate: 100, failureTypes: ['invalid_api_key'], seed: 1 });
  for (const stream of [false, true]) {
    const res = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages: [{ role: 'user', content: 'hi' }], stream });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: { message: 'Incorrect API key provided.', type: 'AuthenticationError', param: null, code: 401 } });
  }
  assert.equal((await fetch(`${sim.url}/v1/models`)).status, 200);
  assert.equal(sim.stats().totalRequests, 0);
});

test('failure injection is seeded: the same seed fails the same requests', async (t) => {
  const statuses = async (seed: number): Promise<number[]> => {
    const sim = await testSimulator(t, { failureInjectionRate: 50, seed, itlMs: 0, ttftMs: 0 });
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 1 });
      out.push(res.status);
      await res.text();
    }
    return out;
  };
  const a = await statuses(9);
  assert.deepEqual(await statuses(9), a);
  assert.ok(a.some((s) => s === 200) && a.some((s) => s !== 200), `statuses ${a.join(',')}`);
});

test("GET /version and GET or POST /ping answer as vLLM's API server does", async (t) => {
  const sim = await testSimulator(t, {});
  const version = await fetch(`${sim.url}/version`);
  assert.equal(version.status, 200);
  assert.deepEqual(await version.json(), { version: SIMULATED_VLLM_VERSION });
  for (const method of ['GET', 'POST']) {
    const ping = await fetch(`${sim.url}/ping`, { method });
    assert.equal(ping.status, 200, method);
    assert.equal(await ping.text(), '');
  }
});
