/** explainRequest from files: what `infergate explain -f` prints when the pods are not asked (--no-discover). */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../test/helpers/local-kube.js';
import { explainRequest } from './explain.js';
import { renderPlan } from './render-plan.js';

test('explain --no-discover: a pick with no endpoint known to serve the model says discovery is off, not "retry shortly"', async () => {
  const plan = await explainRequest({ configPath: join(repoRoot(), 'examples/seed-demo'), body: '{"model":"google/gemma-2b-it","prompt":"x"}', headers: [], discover: false });
  assert.equal(plan.error?.code, 'no_healthy_endpoint');
  assert.equal(plan.error.retry, undefined);
  const text = renderPlan(plan).join('\n');
  assert.match(text, /Discovery is off \(--no-discover\): no pod is asked GET \/v1\/models, so models come from allowlist ConfigMaps only/);
  assert.doesNotMatch(text, /Retry shortly/);
});

test('explain sends its --body as application/json, as clients do, unless a --header names another Content-Type', async () => {
  const configPath = join(repoRoot(), 'examples/seed-demo');
  const json = await explainRequest({ configPath, body: 'notjson', headers: [], discover: false });
  assert.equal(json.error?.code, 'invalid_json');
  assert.match(json.error.message, /\(Content-Type: application\/json\)$/);
  assert.doesNotMatch(json.error.message, /no Content-Type header/);
  const text = await explainRequest({ configPath, body: 'notjson', headers: ['Content-Type: text/plain'], discover: false });
  assert.match(text.error?.message ?? '', /The request's Content-Type is `text\/plain`/);
});

test('explain of a request on a stored response says it knows no response ids, not only that there is no model', async () => {
  const configPath = join(repoRoot(), 'examples/seed-demo');
  for (const [method, path] of [['GET', '/v1/responses/resp_abc'], ['POST', '/v1/responses/resp_abc/cancel']] as const) {
    const plan = await explainRequest({ configPath, method, path, body: '', headers: [], discover: false });
    assert.equal(plan.error?.code, 'route_not_found', `${method} ${path}: ${plan.error?.message}`);
    assert.match(renderPlan(plan).join('\n'), new RegExp(`${method} on stored response resp_abc: no response ids are known here \\(a running gateway routes it to the endpoint that created the response\\)`));
  }
});
