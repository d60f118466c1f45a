/** A benchmark of a server that wants an API key (vLLM --api-key, a gateway with tenant keys): the key is sent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../sim/simulator.js';
import { benchPlanFromFlags } from '../cli/bench-plan.js';
import type { BenchFlags } from '../cli/bench-plan.js';
import { fetchModelIds } from './fetch-models.js';
import { multiModelWorkload } from './multi-model-workload.js';
import { runBench } from './run-bench.js';

/** Loopback address of these tests. */
const HOST = '127.0.224.21';

test('with apiKey every request (and the model list, and the routing check) carries Authorization: Bearer; without it, 401s', async (t) => {
  const sim = await startSimulator({ model: 'base-model', host: HOST, port: 0, ttftMs: 0, itlMs: 1, apiKeys: ['sk-bench'] });
  t.after(() => sim.close());
  await assert.rejects(fetchModelIds(sim.url), /answered 401/);
  assert.deepEqual(await fetchModelIds(sim.url, 5000, 'sk-bench'), ['base-model']);

  const common = { url: sim.url, workload: multiModelWorkload({ models: ['base-model'], promptTokens: 10, maxTokens: 2 }), load: { kind: 'closed', concurrency: 1 } as const, maxRequests: 3, durationS: 20 };
  const without = await runBench(common);
  assert.deepEqual(without.errors, { 'HTTP 401': 3 }, 'vLLM answers a plain {"error":"Unauthorized"}');
  assert.equal(without.errorMessages['HTTP 401'], 'Unauthorized');

  const keyed = await runBench({ ...common, apiKey: 'sk-bench' });
  assert.equal(keyed.successes, 3);
  assert.equal(keyed.routingAccuracy, 1, 'the pod benchmarked directly was asked for its models with the key');
  assert.equal(keyed.routingChecked, 3);
});

test('bench flags: the key comes from OPENAI_API_KEY, as vllm bench serve and the OpenAI clients read it', () => {
  const flags: BenchFlags = { url: 'http://127.0.0.1:8080', workload: 'random', requests: '1', duration: '1', grace: '1', retries: '0', stream: true, seed: '1' };
  assert.equal(benchPlanFromFlags(flags, {}).apiKey, undefined);
  assert.equal(benchPlanFromFlags(flags, { OPENAI_API_KEY: '' }).apiKey, undefined);
  assert.equal(benchPlanFromFlags(flags, { OPENAI_API_KEY: ' sk-1\n' }).apiKey, 'sk-1');
  assert.throws(() => benchPlanFromFlags(flags, { OPENAI_API_KEY: 'sk 1' }), /OPENAI_API_KEY must contain no whitespace/);
});
