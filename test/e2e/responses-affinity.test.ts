/**
 * Stored Responses API responses through the gateway, as clients reach them: behind an HTTPRoute that splits a
 * model's traffic over two InferencePools by weight (a canary, or a rollout from one pool to another), requests
 * on a stored response and follow-ups naming it go to the pool that holds it, whatever the weights draw; a
 * cancel or DELETE sent with a JSON body is still one on the stored response; a follow-up naming a model alias
 * (InferenceModelRewrite) stays on the pod holding its previous response. Pods on 127.0.243.x: one per pool for
 * the split, two in the aliased pool.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';

const QWEN = 'Qwen/Qwen3-0.6B';
const PHI = 'microsoft/Phi-4-mini-instruct';
/** The alias an InferenceModelRewrite maps to the adapter PHI's pods serve: no pod serves it under this name. */
const ALIAS = 'sql';
const FAST = { ttftMs: 0, itlMs: 1, mode: 'echo' } as const;

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let v1: OpenAI;

before(async () => {
  fleet = await startFleet(243, [
    { name: 'stable-0', labels: { track: 'stable' }, model: QWEN, task: 'generate', ...FAST },
    { name: 'canary-0', labels: { track: 'canary' }, model: QWEN, task: 'generate', ...FAST },
    { name: 'phi-0', labels: { app: 'phi' }, model: PHI, loras: ['phi-sql-v1'], task: 'generate', ...FAST },
    { name: 'phi-1', labels: { app: 'phi' }, model: PHI, loras: ['phi-sql-v1'], task: 'generate', ...FAST },
  ]);
  const docs = [
    podYaml('stable-0', fleet.ipOf('stable-0'), { track: 'stable' }),
    podYaml('canary-0', fleet.ipOf('canary-0'), { track: 'canary' }),
    poolYaml('stable', { track: 'stable' }, fleet.port),
    poolYaml('canary', { track: 'canary' }, fleet.port),
    baseModelRouteYaml('qwen', QWEN, [['stable', 1], ['canary', 1]]),
    podYaml('phi-0', fleet.ipOf('phi-0'), { app: 'phi' }),
    podYaml('phi-1', fleet.ipOf('phi-1'), { app: 'phi' }),
    poolYaml('phi', { app: 'phi' }, fleet.port),
    baseModelRouteYaml('phi', PHI, [['phi', 1]]),
    `apiVersion: llm-d.ai/v1alpha2
kind: InferenceModelRewrite
metadata: {name: sql-alias}
spec:
  poolRef: {name: phi}
  rules:
    - matches: [{model: {type: Exact, value: ${ALIAS}}}]
      targets: [{modelRewrite: phi-sql-v1, weight: 100}]
`,
  ];
  cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  gw = await startTestGateway(cfg.dir);
  v1 = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

describe('a rule splitting a model over two pools by weight', () => {
  test('retrieve, follow-ups and delete reach the pool and pod holding the response, not the one the weights draw', async () => {
    // Creations go either way; each later request would draw the other pool half the time without affinity.
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { data: created, response } = await v1.responses.create({ model: QWEN, input: `remember ${i}` }).withResponse();
      const pod = response.headers.get('x-inference-pod') ?? '';
      seen.add(pod);
      for (let j = 0; j < 5; j++) {
        const got = await v1.responses.retrieve(created.id).withResponse();
        assert.equal(got.data.output_text, `remember ${i}`);
        assert.equal(got.response.headers.get('x-inference-pod'), pod);
        const next = await v1.responses.create({ model: QWEN, input: 'and more', previous_response_id: created.id }).withResponse();
        assert.equal(next.data.previous_response_id, created.id);
        assert.equal(next.response.headers.get('x-inference-pod'), pod);
      }
      const deleted = await v1.responses.delete(created.id).withResponse();
      assert.equal(deleted.response.headers.get('x-inference-pod'), pod);
    }
    assert.ok([...seen].every((p) => p === 'stable-0' || p === 'canary-0'), [...seen].join());
  });
});

describe('a request on a stored response that carries a body', () => {
  test('POST .../cancel and DELETE with `{}` (clients that always send a JSON body) reach the pod holding it, not a 400 missing_model', async () => {
    const { data: created, response } = await v1.responses.create({ model: QWEN, input: 'keep me' }).withResponse();
    const pod = response.headers.get('x-inference-pod');
    const json = { 'content-type': 'application/json' };
    for (let i = 0; i < 4; i++) {
      const cancel = await fetch(`${gw.url}/v1/responses/${created.id}/cancel`, { method: 'POST', headers: json, body: '{}' });
      const text = await cancel.text();
      // The simulator, as vLLM, refuses to cancel a response that ran in the foreground: the pod's own answer.
      assert.equal(cancel.status, 400, text);
      assert.match(text, /Cannot cancel a synchronous response/);
      assert.equal(cancel.headers.get('x-inference-pod'), pod);
    }
    const del = await fetch(`${gw.url}/v1/responses/${created.id}`, { method: 'DELETE', headers: json, body: '{}' });
    assert.equal(del.status, 200, await del.clone().text());
    assert.deepEqual(await del.json(), { id: created.id, object: 'response', deleted: true });
    assert.equal(del.headers.get('x-inference-pod'), pod);
    const again = await fetch(`${gw.url}/v1/responses/${created.id}`, { method: 'DELETE', headers: json, body: '{}' });
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'response_not_found');
  });

  test('a method the stored-response path does not take is 405 with Allow, as vLLM answers, not a 400 about the body', async () => {
    const json = { 'content-type': 'application/json' };
    for (const [method, path, allow] of [
      ['PUT', '/v1/responses/resp_x', 'GET, HEAD, DELETE'],
      ['POST', '/v1/responses/resp_x', 'GET, HEAD, DELETE'],
      ['GET', '/v1/responses/resp_x/cancel', 'POST'],
      ['DELETE', '/v1/responses/resp_x/input_items', 'GET, HEAD'],
    ] as const) {
      const r = await fetch(`${gw.url}${path}`, { method, headers: json, ...(method === 'GET' ? {} : { body: '{"input":"x"}' }) });
      const body = (await r.json()) as { error: { code: string; type: string; message: string } };
      assert.equal(r.status, 405, `${method} ${path}: ${JSON.stringify(body)}`);
      assert.equal(r.headers.get('allow'), allow);
      assert.equal(body.error.code, 'method_not_allowed');
      assert.match(body.error.message, new RegExp(`^${method} ${path} is not served`));
    }
  });
});

describe('a follow-up naming a model alias (InferenceModelRewrite)', () => {
  test('stays on the pod holding its previous response, which serves the adapter the alias is sent as', async () => {
    for (let i = 0; i < 2; i++) {
      const { data: created, response } = await v1.responses.create({ model: ALIAS, input: `alias ${i}` }).withResponse();
      const pod = response.headers.get('x-inference-pod');
      assert.match(pod ?? '', /^phi-[01]$/);
      // Two pods: five follow-ups that all reach it would pass by chance one time in 32.
      for (let j = 0; j < 5; j++) {
        const next = await v1.responses.create({ model: ALIAS, input: 'and more', previous_response_id: created.id }).withResponse();
        assert.equal(next.data.previous_response_id, created.id);
        assert.equal(next.response.headers.get('x-inference-pod'), pod);
      }
    }
  });
});

test('a follow-up that leaves the model out (the openai SDK allows it) is sent as its previous response\'s model, to the pod holding it', async () => {
  const first = await v1.responses.create({ model: 'phi-sql-v1', input: 'hello there' }).withResponse();
  const pod = first.response.headers.get('x-gateway-destination-endpoint-served');
  for (let i = 0; i < 4; i++) {
    const next = await v1.responses.create({ previous_response_id: first.data.id, input: `and then ${i}?` }).withResponse();
    assert.equal(next.data.model, 'phi-sql-v1', 'the adapter, not the pod\'s default model');
    assert.equal(next.response.headers.get('x-gateway-destination-endpoint-served'), pod);
  }
  // Without a previous response this gateway forwarded, the model is still required.
  await assert.rejects(v1.responses.create({ previous_response_id: 'resp_unknown', input: 'x' }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.equal(e.code, 'missing_model');
    return true;
  });
});
