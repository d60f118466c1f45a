/** HTTP tests under load: live metrics, queueing, client disconnects and graceful close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, sampleValue, testSimulator, waitFor } from './test-kit.js';

const M = '{model_name="base-model",engine="0"}';

function streamBody(model: string, maxTokens: number): Record<string, unknown> {
  return { model, prompt: 'four', max_tokens: maxTokens, stream: true };
}

test('/metrics: vLLM names, live running and waiting under load, lora info, counters afterwards', async (t) => {
  const sim = await testSimulator(t, { maxNumSeqs: 1, ttftMs: 5, itlMs: 30, loras: ['lora-a', 'lora-b'] });
  const abort = new AbortController();
  // lora-a first and alone, so the running/waiting split below does not depend on which connection wins.
  const pending = [postJson(sim, '/v1/completions', streamBody('lora-a', 50), abort.signal)];
  await waitFor(() => sim.stats().running === 1, 5000, 'lora-a to start');
  // Its first token too, so the TTFT count below does not depend on how soon the abort comes (raced under CI load).
  await (await pending[0]!).body!.getReader().read();
  pending.push(...['lora-b', 'lora-b'].map((model) => postJson(sim, '/v1/completions', streamBody(model, 50), abort.signal)));
  await waitFor(() => sim.stats().totalRequests === 3, 5000, 'three requests to arrive');

  const res = await fetch(`${sim.url}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.equal(sampleValue(text, `vllm:num_requests_running${M}`), 1);
  assert.equal(sampleValue(text, `vllm:num_requests_waiting${M}`), 2);
  // Changed with the step engine: usage is held KV blocks / all blocks (one short request holds 1 of 4096),
  // and max_lora is the maxLoras option (default 1), no longer the number of adapters served.
  assert.equal(sampleValue(text, `vllm:kv_cache_usage_perc${M}`), 1 / 4096);
  const lora = text.split('\n').find((l) => l.startsWith('vllm:lora_requests_info{'));
  assert.match(lora ?? '', /^vllm:lora_requests_info\{max_lora="1",running_lora_adapters="lora-a",waiting_lora_adapters="lora-b"\} \d+(\.\d+)?$/);
  for (const name of ['num_requests_running', 'num_requests_waiting', 'kv_cache_usage_perc', 'lora_requests_info']) {
    assert.match(text, new RegExp(`^# HELP vllm:${name} .+\n# TYPE vllm:${name} gauge$`, 'm'));
  }
  abort.abort();
  await Promise.allSettled(pending);
  await waitFor(() => sim.stats().running + sim.stats().waiting === 0, 5000, 'aborted requests to leave');

  const done = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'abcdefgh', max_tokens: 3 });
  assert.equal(done.status, 200);
  await done.json();
  const after = await (await fetch(`${sim.url}/metrics`)).text();
  assert.equal(sampleValue(after, `vllm:num_requests_running${M}`), 0);
  // vLLM's label is finished_reason, one series per FinishReason value: the response field's finish_reason matched nothing.
  const success = (reason: string): number | undefined =>
    sampleValue(after, `vllm:request_success_total{model_name="base-model",engine="0",finished_reason="${reason}"}`);
  assert.equal(success('length'), 1);
  assert.equal(success('stop'), 0);
  assert.equal(success('abort'), 0);
  assert.ok((sampleValue(after, `vllm:generation_tokens_total${M}`) ?? 0) >= 3);
  assert.ok((sampleValue(after, `vllm:prompt_tokens_total${M}`) ?? 0) >= 2);
  assert.equal(sampleValue(after, `vllm:e2e_request_latency_seconds_count${M}`), 1);
  assert.equal(sampleValue(after, 'vllm:time_to_first_token_seconds_bucket{model_name="base-model",engine="0",le="+Inf"}'), 2);
  assert.match(after, /^# TYPE vllm:prompt_tokens_total counter$/m);
  assert.match(after, /^# TYPE vllm:time_to_first_token_seconds histogram$/m);
  assert.match(after, /^vllm:e2e_request_latency_seconds_sum\{model_name="base-model",engine="0"\} [\d.e-]+$/m);
});

test('the (maxNumSeqs+1)th request waits for a slot, as the engine\'s own queue time shows', async (t) => {
  const itlMs = 150;
  const sim = await testSimulator(t, { maxNumSeqs: 2, ttftMs: 10, itlMs });
  await Promise.all(
    [0, 1, 2].map(async () => {
      const events = await readSse(await postJson(sim, '/v1/completions', streamBody('base-model', 4)));
      assert.equal(events.at(-1)?.data, '[DONE]');
    }),
  );
  // The third starts only when a slot frees: after ttft + 3 itl (460 ms) of another request. Read from the engine's
  // own vllm:request_queue_time_seconds, not from client-side arrival times, which a loaded machine skews by more
  // than an itl: a busy machine only makes the wait longer.
  const text = await (await fetch(`${sim.url}/metrics`)).text();
  const bucket = (le: string): number | undefined => sampleValue(text, `vllm:request_queue_time_seconds_bucket{model_name="base-model",engine="0",le="${le}"}`);
  assert.equal(bucket('+Inf'), 3);
  assert.ok(bucket('0.3')! <= 2, `a request waited over 0.3 s for a slot: ${text.split('\n').filter((l) => l.startsWith('vllm:request_queue_time_seconds_bucket')).join('; ')}`);
});

test('a client that disconnects frees its running slot and leaves the queue', async (t) => {
  const sim = await testSimulator(t, { maxNumSeqs: 1, ttftMs: 1, itlMs: 50 });
  const first = new AbortController();
  const running = await postJson(sim, '/v1/completions', streamBody('base-model', 200), first.signal);
  const reader = running.body!.getReader();
  await reader.read(); // the first token: it is generating
  const queued = new AbortController();
  // Not streamed, so no headers yet: the disconnect is seen only as the socket closing.
  const waiting = postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 1 }, queued.signal);
  await waitFor(() => sim.stats().waiting === 1, 5000, 'the second request to queue');

  queued.abort();
  await assert.rejects(waiting);
  await waitFor(() => sim.stats().waiting === 0, 5000, 'the queued request to leave');
  assert.equal(sim.stats().running, 1);

  first.abort();
  await reader.read().catch(() => undefined);
  await waitFor(() => sim.stats().running === 0, 5000, 'the running slot to free');
  // The slot is free: a new request runs now, not 200 tokens * 50 ms later.
  const next = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 2 });
  assert.equal(next.status, 200);
  assert.equal(((await next.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 2);
});

test('close() waits for running and queued requests to finish, then refuses connections', async (t) => {
  const sim = await testSimulator(t, { maxNumSeqs: 1, ttftMs: 5, itlMs: 20 });
  const streamed = await postJson(sim, '/v1/completions', streamBody('base-model', 5));
  const queued = postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 3 });
  await waitFor(() => sim.stats().waiting === 1, 5000, 'the second request to queue');

  let closedAt = Infinity;
  const closing = sim.close().then(() => (closedAt = performance.now()));
  const events = await readSse(streamed);
  const queuedRes = await queued;
  const queuedBody = (await queuedRes.json()) as { usage: { completion_tokens: number } };
  await closing;

  assert.equal(events.at(-1)?.data, '[DONE]');
  assert.equal(events.length, 6);
  assert.ok(closedAt >= (events.at(-1)?.at ?? Infinity), 'close resolved after the stream ended');
  assert.equal(queuedRes.status, 200);
  assert.equal(queuedBody.usage.completion_tokens, 3);
  assert.deepEqual(sim.stats(), { running: 0, waiting: 0, totalRequests: 2 });
  await assert.rejects(fetch(`${sim.url}/health`));
  await sim.close(); // idempotent
});
