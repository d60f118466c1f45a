/** runBench against real simulators on loopback: counts, client-side timings, load shapes, limits and routing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { RunResult } from './run-bench.js';
import { runBench } from './run-bench.js';
import { benchSimulator, roundRobinProxy, SECOND_HOST, TEST_HOST } from './test-kit.js';
import type { Workload } from './workload.js';
import { multiModelWorkload } from './multi-model-workload.js';

/** Chat requests for one model with a fixed max_tokens. */
function simple(model = 'base-model', maxTokens = 6): Workload {
  return multiModelWorkload({ models: [model], promptTokens: 20, maxTokens, api: 'chat' });
}

function assertCountsAddUp(r: RunResult): void {
  assert.equal(r.successes + r.failures, r.requests);
  assert.equal(Object.values(r.errors).reduce((a, b) => a + b, 0), r.failures);
  assert.equal(Object.values(r.perEndpoint).reduce((a, b) => a + b, 0), r.successes);
}

test('closed loop, streamed: every request succeeds, TTFT < e2e, ITL and tokens measured, routing checked', async (t) => {
  const sim = await benchSimulator(t, { loras: ['lora-1'] });
  const progress: number[] = [];
  const r = await runBench({
    url: sim.url,
    workload: multiModelWorkload({ models: ['base-model', 'lora-1'], promptTokens: 30, maxTokens: 6 }),
    load: { kind: 'closed', concurrency: 4 },
    maxRequests: 40,
    durationS: 30,
    onProgress: (p) => progress.push(p.completed),
  });
  assertCountsAddUp(r);
  assert.equal(r.requests, 40);
  assert.equal(r.successes, 40);
  assert.equal(r.successRate, 1);
  assert.equal(r.attemptsPerSuccess, 1);
  assert.equal(r.stream, true);
  assert.equal(r.outputTokens, 40 * 6, 'usage from the final chunk: max_tokens each');
  assert.ok(r.inputTokens >= 40 * 30, `prompt tokens from the usage chunk: ${r.inputTokens}`);
  assert.ok(r.totalTokensPerS > r.outputTokensPerS);
  assert.ok(r.ttft.p50 > 0 && r.ttft.p50 < r.e2e.p50, `ttft ${r.ttft.p50} < e2e ${r.e2e.p50}`);
  assert.ok(r.ttft.p99 <= r.e2e.p99);
  assert.ok(Number.isFinite(r.itl.p50) && r.itl.mean >= 0, 'ITL measured between content chunks');
  assert.ok(Number.isFinite(r.tpot.p50) && r.tpot.p50 > 0, 'TPOT measured per request');
  assert.ok(r.rps > 0 && r.outputTokensPerS > r.rps);
  assert.equal(r.routingAccuracy, 1, 'direct to the pod: it serves what it answered');
  assert.equal(r.routingChecked, 40);
  assert.deepEqual(Object.keys(r.perEndpoint), [`${sim.host}:${sim.port}`]);
  assert.equal(progress.at(-1), 40, 'a final progress report at the end');
});

test('non-streamed: e2e and usage only', async (t) => {
  const sim = await benchSimulator(t);
  const r = await runBench({ url: sim.url, workload: simple(), load: { kind: 'closed', concurrency: 2 }, maxRequests: 20, durationS: 30, stream: false });
  assert.equal(r.successes, 20);
  assert.equal(r.outputTokens, 20 * 6);
  assert.ok(r.inputTokens >= 20 * 20, `prompt tokens from usage: ${r.inputTokens}`);
  assert.ok(Number.isNaN(r.ttft.p50) && Number.isNaN(r.itl.p50) && Number.isNaN(r.tpot.p50));
  assert.ok(r.e2e.p50 > 0);
});

test('open loop: about rate x duration requests are sent; maxRequests bounds it', async (t) => {
  const sim = await benchSimulator(t);
  const timed = await runBench({ url: sim.url, workload: simple('base-model', 2), load: { kind: 'open', rate: 50 }, maxRequests: 1000, durationS: 0.6, seed: 3 });
  assertCountsAddUp(timed);
  // 30 expected; Poisson with this seed and timer slack stay well inside these bounds.
  assert.ok(timed.requests >= 10 && timed.requests <= 60, `sent ${timed.requests}`);
  assert.equal(timed.failures, 0);

  const capped = await runBench({ url: sim.url, workload: simple('base-model', 2), load: { kind: 'open', rate: 2000 }, maxRequests: 25, durationS: 10 });
  assert.equal(capped.requests, 25);
  assert.equal(capped.successes, 25);
});

test('open loop does not wait for replies: slow replies overlap at the pod', async (t) => {
  const sim = await benchSimulator(t, { ttftMs: 300, maxNumSeqs: 64 });
  let maxRunning = 0;
  const poll = setInterval(() => (maxRunning = Math.max(maxRunning, sim.stats().running)), 5);
  t.after(() => clearInterval(poll));
  const r = await runBench({ url: sim.url, workload: simple('base-model', 1), load: { kind: 'open', rate: 200 }, maxRequests: 20, durationS: 10 });
  assert.equal(r.successes, 20);
  assert.ok(maxRunning > 1, `running at once: ${maxRunning}`);
});

test('durationS ends the run early; requests still in flight after the grace period are unfinished failures', async (t) => {
  const sim = await benchSimulator(t, { ttftMs: 2000 });
  const r = await runBench({ url: sim.url, workload: simple(), load: { kind: 'closed', concurrency: 3 }, maxRequests: 1000, durationS: 0.2, graceS: 0.1, verifyRouting: false });
  assert.equal(r.requests, 3, 'each worker started one request, none finished before the deadline');
  assert.equal(r.failures, 3);
  assert.deepEqual(Object.keys(r.errors), ['unfinished (aborted at the end of the run)']);
  assert.equal(r.routingAccuracy, null);
  assertCountsAddUp(r);
});

test('a caller abort stops the run and reports what was measured', async (t) => {
  const sim = await benchSimulator(t, { ttftMs: 2000 });
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 100);
  const r = await runBench({ url: sim.url, workload: simple(), load: { kind: 'open', rate: 20 }, maxRequests: 1000, durationS: 30, signal: stop.signal });
  assert.ok(r.requests >= 0 && r.requests < 20);
  assert.equal(r.successes, 0);
  assertCountsAddUp(r);
});

test('connection errors are failures, counted by code', async () => {
  // A port that was free a moment ago and is closed now.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, TEST_HOST, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const r = await runBench({ url: `http://${TEST_HOST}:${port}`, workload: simple(), load: { kind: 'closed', concurrency: 2 }, maxRequests: 6, durationS: 10, retries: 1 });
  assert.equal(r.failures, 6);
  assert.equal(r.attempts, 12, 'each request tried twice');
  assert.deepEqual(r.errors, { 'connection error ECONNREFUSED': 6 });
  assert.ok(Number.isNaN(r.attemptsPerSuccess));
  assert.equal(r.routingAccuracy, null);
});

test('routing accuracy: 0 when the served-endpoint header names a pod that does not serve the model', async (t) => {
  const a = await benchSimulator(t, { model: 'model-a' });
  const b = await benchSimulator(t, { model: 'model-b', host: SECOND_HOST });
  // Both requests of a pair go to the right pods (a serves model-a, b model-b) but the header names the other one.
  const url = await roundRobinProxy(t, [a, b], true);
  const r = await runBench({ url, workload: simple('model-a'), load: { kind: 'closed', concurrency: 1 }, maxRequests: 10, durationS: 10 });
  assert.equal(r.successes, 5);
  assert.equal(r.routingAccuracy, 0);
  assert.deepEqual(Object.keys(r.perEndpoint), [`${b.host}:${b.port}`]);
});

test('a pod that names itself (x-inference-pod) is counted under its name; a name cannot be asked, so accuracy is null', async (t) => {
  const sim = await benchSimulator(t, { podName: 'pod-a' });
  const r = await runBench({ url: sim.url, workload: simple(), load: { kind: 'closed', concurrency: 2 }, maxRequests: 6, durationS: 10 });
  assert.deepEqual(r.perEndpoint, { 'pod-a': 6 });
  assert.equal(r.routingAccuracy, null);
  assert.equal(r.routingChecked, 0);
});

test('the same seed sends the same requests whatever the load shape', async (t) => {
  const sim = await benchSimulator(t, { mode: 'echo' });
  const seen: string[][] = [[], []];
  for (const [k, load] of [{ kind: 'closed', concurrency: 1 }, { kind: 'open', rate: 500 }].entries()) {
    const base = simple();
    const recording: Workload = { name: base.name, next: (i, random) => { const r = base.next(i, random); seen[k]?.push(JSON.stringify(r.body)); return r; } };
    await runBench({ url: sim.url, workload: recording, load: load as { kind: 'closed'; concurrency: number }, maxRequests: 10, durationS: 10, seed: 9 });
  }
  assert.deepEqual(seen[0], seen[1]);
});
