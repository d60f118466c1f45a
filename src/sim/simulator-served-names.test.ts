/** vLLM's --served-model-name with several names: each is the base model, served and listed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, sampleValue, testSimulator } from './test-kit.js';

/** Loopback address of these tests. */
const HOST = '127.0.224.23';

test('every served name of the base model is accepted and listed; the first names the metrics', async (t) => {
  const sim = await testSimulator(t, { host: HOST, model: 'llama', modelAliases: ['meta-llama/Llama-3.1-8B'], loras: ['sql'], ttftMs: 0, itlMs: 0 });
  const models = (await (await fetch(`${sim.url}/v1/models`)).json()) as { data: { id: string; parent: string | null }[] };
  assert.deepEqual(
    models.data.map((m) => [m.id, m.parent]),
    [['llama', null], ['meta-llama/Llama-3.1-8B', null], ['sql', 'llama']],
  );
  // The second name was a 404 "does not exist", where vLLM serves it.
  const res = await postJson(sim, '/v1/chat/completions', { model: 'meta-llama/Llama-3.1-8B', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { model: string }).model, 'meta-llama/Llama-3.1-8B');
  const metrics = await (await fetch(`${sim.url}/metrics`)).text();
  assert.equal(sampleValue(metrics, 'vllm:request_success_total{model_name="llama",engine="0",finished_reason="length"}'), 1);
  // It ran on the base model: no adapter was ever running.
  assert.match(metrics, /^vllm:lora_requests_info\{max_lora="1",running_lora_adapters="",waiting_lora_adapters=""\} /m);
  const load = await postJson(sim, '/v1/load_lora_adapter', { lora_name: 'meta-llama/Llama-3.1-8B', lora_path: '/x' });
  assert.equal(load.status, 400, 'a base name cannot become an adapter');
  await load.text();
});
