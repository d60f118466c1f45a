/** vLLM's per-request histograms on /metrics: phases, TPOT, token counts and max_tokens, one observation per request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, sampleValue, testSimulator } from './test-kit.js';
import { oneTwoFiveBuckets } from './vllm-metrics.js';

/** Loopback address of these tests. */
const HOST = '127.0.224.22';
const L = 'model_name="base-model",engine="0"';

test("vLLM's 1-2-5 token buckets stop at max_model_len", () => {
  assert.deepEqual(oneTwoFiveBuckets(100), [1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(oneTwoFiveBuckets(1024), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
});

test('a finished request is observed once in each per-request histogram, phases adding up as vLLM times them', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 2, maxModelLen: 1024 });
  // 8 characters: 2 prompt tokens; 5 generated.
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'abcdefgh', max_tokens: 5 });
  assert.equal(res.status, 200);
  await res.json();
  const text = await (await fetch(`${sim.url}/metrics`)).text();
  const value = (series: string): number => {
    const v = sampleValue(text, series);
    assert.ok(v !== undefined, `${series} is exported`);
    return v;
  };
  for (const name of ['request_prefill_time_seconds', 'request_decode_time_seconds', 'request_inference_time_seconds', 'request_time_per_output_token_seconds', 'request_prompt_tokens', 'request_generation_tokens', 'request_params_max_tokens']) {
    assert.match(text, new RegExp(`^# TYPE vllm:${name} histogram$`, 'm'));
    assert.equal(value(`vllm:${name}_count{${L}}`), 1, name);
  }
  assert.equal(value(`vllm:request_prompt_tokens_sum{${L}}`), 2);
  assert.equal(value(`vllm:request_prompt_tokens_bucket{${L},le="1.0"}`), 0);
  assert.equal(value(`vllm:request_prompt_tokens_bucket{${L},le="2.0"}`), 1);
  assert.equal(value(`vllm:request_prompt_tokens_bucket{${L},le="1000.0"}`), 1, 'the buckets go up to max_model_len');
  assert.equal(value(`vllm:request_generation_tokens_sum{${L}}`), 5);
  assert.equal(value(`vllm:request_params_max_tokens_sum{${L}}`), 5);
  const prefill = value(`vllm:request_prefill_time_seconds_sum{${L}}`);
  const decode = value(`vllm:request_decode_time_seconds_sum{${L}}`);
  assert.ok(decode > 0, 'four steps after the first token');
  assert.ok(Math.abs(value(`vllm:request_inference_time_seconds_sum{${L}}`) - (prefill + decode)) < 1e-9, 'inference = prefill + decode');
  assert.ok(Math.abs(value(`vllm:request_time_per_output_token_seconds_sum{${L}}`) - decode / 4) < 1e-9, 'TPOT = decode / (tokens - 1)');
});
