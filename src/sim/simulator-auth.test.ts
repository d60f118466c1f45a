/** HTTP tests for `apiKeys` (vLLM's --api-key): /v1 needs the key, the root endpoints do not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, testSimulator } from './test-kit.js';

const HOST = '127.0.80.1';

test('with an API key every /v1 path answers 401 {"error":"Unauthorized"} without it, and works with it', async (t) => {
  const sim = await testSimulator(t, { host: HOST, apiKeys: ['sekret'], podName: 'p', ttftMs: 0, itlMs: 0 });
  const body = { model: 'base-model', prompt: 'x', max_tokens: 1 };
  const denied = [
    await fetch(`${sim.url}/v1/models`),
    await fetch(`${sim.url}/v1/models`, { headers: { authorization: 'Bearer wrong' } }),
    await postJson(sim, '/v1/completions', body),
    await fetch(`${sim.url}/v1/nothing-here`),
  ];
  for (const res of denied) {
    assert.equal(res.status, 401, res.url);
    assert.deepEqual(await res.json(), { error: 'Unauthorized' });
    assert.equal(res.headers.get('x-inference-pod'), 'p');
  }
  const allowed = await fetch(`${sim.url}/v1/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sekret', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(allowed.status, 200);
  await allowed.text();
  // vLLM's middleware guards only paths that start with /v1.
  for (const res of [await fetch(`${sim.url}/health`), await fetch(`${sim.url}/metrics`), await postJson(sim, '/tokenize', { prompt: 'x' })]) {
    assert.equal(res.status, 200, res.url);
    await res.text();
  }
  // A kept-alive connection still works after a 401 whose body was never read.
  for (let i = 0; i < 3; i++) assert.equal((await postJson(sim, '/v1/completions', body)).status, 401);
});
