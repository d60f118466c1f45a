/** Client retries behind a model-blind round-robin proxy (two pods, different models), as in the field report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from './run-bench.js';
import { benchSimulator, roundRobinProxy, SECOND_HOST } from './test-kit.js';
import { multiModelWorkload } from './multi-model-workload.js';

test('retries: without them half the requests hit the wrong pod and fail; with 3 all succeed at > 1 attempt each', async (t) => {
  const a = await benchSimulator(t, { model: 'model-a' });
  const b = await benchSimulator(t, { model: 'model-b', host: SECOND_HOST });
  const url = await roundRobinProxy(t, [a, b]);
  const workload = multiModelWorkload({ models: ['model-a'], promptTokens: 10, maxTokens: 3 });
  const common = { url, workload, load: { kind: 'closed', concurrency: 1 } as const, maxRequests: 20, durationS: 20 };

  const none = await runBench({ ...common, retries: 0 });
  assert.equal(none.requests, 20);
  assert.equal(none.failures, 10, 'every other request reaches the pod without model-a');
  assert.deepEqual(none.errors, { 'HTTP 404 NotFoundError': 10 });
  assert.deepEqual(none.errorMessages, { 'HTTP 404 NotFoundError': 'The model `model-a` does not exist.' }, 'what the pod said, once');
  assert.equal(none.attemptsPerSuccess, 1);
  assert.equal(none.routingAccuracy, 1, 'the successes came from the pod that serves model-a');
  assert.deepEqual(Object.keys(none.perEndpoint), [`${a.host}:${a.port}`]);

  const three = await runBench({ ...common, retries: 3 });
  assert.equal(three.successes, 20);
  assert.equal(three.successRate, 1);
  assert.ok(three.attemptsPerSuccess > 1, `attempts per success ${three.attemptsPerSuccess}`);
  assert.equal(three.attempts, Math.round(three.attemptsPerSuccess * 20));
  assert.equal(three.routingAccuracy, 1);
});
