/** End-to-end behaviour of the standalone gateway over loopback with real simulators and the openai client. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { explainRequest } from '../../src/cli/explain.js';
import { renderPlan } from '../../src/cli/render-plan.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { allowlistYaml } from '../../src/config/manifests.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const GEMMA = 'google/gemma-2b-it';
const PHI = 'microsoft/Phi-3-mini-4k-instruct';

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;

function config(port: number, ip: (n: string) => string): Record<string, string> {
  return {
    'pods.yaml': [
      podYaml('gemma-0', ip('gemma-0'), { model: 'gemma' }),
      podYaml('gemma-1', ip('gemma-1'), { model: 'gemma' }),
      podYaml('phi-0', ip('phi-0'), { model: 'phi' }),
      podYaml('down-0', '127.0.32.50', { model: 'down' }, { ready: false }),
    ].join('---\n'),
    'pools.yaml': [poolYaml('gemma', { model: 'gemma' }, port), poolYaml('phi', { model: 'phi' }, port), poolYaml('down', { model: 'down' }, port)].join('---\n'),
    'routes.yaml': [
      baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]),
      baseModelRouteYaml('phi', PHI, [['phi', 1]]),
      baseModelRouteYaml('ghost', 'ghost/model', [['no-such-pool', 1]]),
      baseModelRouteYaml('down', 'down/model', [['down', 1]]),
    ].join('---\n'),
    // No allowlist names phi's adapter: it must still route, learnt from the pods' /v1/models.
    'allowlists.yaml': [allowlistYaml('gemma', GEMMA, ['gemma-sql-lora']), allowlistYaml('orphan', 'orphan/model', []), allowlistYaml('ghost', 'ghost/model', []), allowlistYaml('down', 'down/model', [])].join('---\n'),
  };
}

before(async () => {
  fleet = await startFleet(32, [
    { name: 'gemma-0', labels: {}, model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 1, itlMs: 1 },
    { name: 'gemma-1', labels: {}, model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 1, itlMs: 1 },
    { name: 'phi-0', labels: {}, model: PHI, loras: ['phi-code-lora'], ttftMs: 5, itlMs: 30 },
  ]);
  cfg = await tempConfig(config(fleet.port, fleet.ipOf));
  gw = await startTestGateway(cfg.dir, { maxBodyBytes: 64 * 1024 });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { error?: { message: string; type: string; param: string | null; code: string } }; headers: Headers }> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, json: (await res.json()) as never, headers: res.headers };
}

describe('errors are OpenAI-shaped, actionable, and never break other requests', () => {
  test('unknown model -> NotFoundError naming the model and the served models', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError, `got ${String(e)}`);
      assert.match(e.message, /no-such-model/);
      assert.match(e.message, /gemma-sql-lora/);
      assert.equal(e.code, 'model_not_found');
      return true;
    });
  });

  const cases: [string, string, number, string][] = [
    ['not JSON', '{"model": "google/gemma', 400, 'invalid_json'],
    ['a JSON array', '[1,2]', 400, 'invalid_json'],
    ['no model', '{"prompt":"hi"}', 400, 'missing_model'],
    ['model not a string', '{"model":42,"prompt":"hi"}', 400, 'missing_model'],
    ['a base with no route', '{"model":"orphan/model","prompt":"hi"}', 404, 'route_not_found'],
    ['a route to a missing pool', '{"model":"ghost/model","prompt":"hi"}', 500, 'pool_not_found'],
    ['a pool with no ready pod', '{"model":"down/model","prompt":"hi"}', 503, 'no_healthy_endpoint'],
  ];
  for (const [name, body, status, code] of cases) {
    test(`${name} -> ${status} ${code}`, async () => {
      const r = await post('/v1/completions', body);
      assert.equal(r.status, status);
      assert.equal(r.json.error?.code, code);
      assert.equal(typeof r.json.error?.message, 'string');
      assert.ok('param' in (r.json.error ?? {}) && 'type' in (r.json.error ?? {}));
    });
  }

  test('messages name what to fix', async () => {
    assert.match((await post('/v1/completions', '{"model":"orphan/model"}')).json.error!.message, /orphan\/model/);
    assert.match((await post('/v1/completions', '{"model":"ghost/model"}')).json.error!.message, /default\/no-such-pool/);
    assert.match((await post('/v1/completions', '{"model":"down/model"}')).json.error!.message, /InferencePool default\/down.*not Ready/);
  });

  test('a body over --max-body-bytes -> 413', async () => {
    const r = await post('/v1/completions', JSON.stringify({ model: GEMMA, prompt: 'x'.repeat(100 * 1024) }));
    assert.equal(r.status, 413);
    assert.equal(r.json.error?.code, 'request_too_large');
  });

  test('after all of the above the gateway still serves', async () => {
    const r = await client.completions.create({ model: GEMMA, prompt: 'still there?', max_tokens: 2 });
    assert.equal(r.model, GEMMA);
  });
});

test('client-sent routing headers are dropped: a client cannot steer itself into another pool or pod', async () => {
  const phiAddr = `${fleet.ipOf('phi-0')}:${fleet.port}`;
  for (let i = 0; i < 10; i++) {
    const { data, response } = await client.completions
      .create({ model: 'gemma-sql-lora', prompt: 'hi', max_tokens: 2 }, { headers: { 'X-Gateway-Base-Model-Name': PHI, 'X-Gateway-Model-Name': 'phi-code-lora', 'x-gateway-destination-endpoint': phiAddr, 'x-gateway-destination-endpoint-subset': phiAddr } })
      .withResponse();
    assert.equal(data.model, 'gemma-sql-lora');
    const served = response.headers.get('x-gateway-destination-endpoint-served');
    assert.ok(served === `${fleet.ipOf('gemma-0')}:${fleet.port}` || served === `${fleet.ipOf('gemma-1')}:${fleet.port}`, `served by ${served}`);
  }
});

test('an adapter missing from every ConfigMap still routes, learnt from the pods (the report\'s "fault filter abort")', async () => {
  const { data, response } = await client.completions.create({ model: 'phi-code-lora', prompt: 'hi', max_tokens: 2 }).withResponse();
  assert.equal(data.model, 'phi-code-lora');
  assert.equal(response.headers.get('x-gateway-destination-endpoint-served'), `${fleet.ipOf('phi-0')}:${fleet.port}`);
});

test('--strict-allowlist uses the ConfigMaps alone and says why a pod-served adapter is refused', async () => {
  const strict = await startTestGateway(cfg.dir, { strictAllowlist: true });
  try {
    const c = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await assert.rejects(c.completions.create({ model: 'phi-code-lora', prompt: 'hi' }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.match(e.message, /no allowlist ConfigMap.*--strict-allowlist/);
      return true;
    });
    const ok = await c.completions.create({ model: 'gemma-sql-lora', prompt: 'hi', max_tokens: 2 });
    assert.equal(ok.model, 'gemma-sql-lora');
  } finally {
    await strict.close();
  }
});

test('streaming arrives chunk by chunk as the pod generates, not at the end', async () => {
  const stream = await client.completions.create({ model: PHI, prompt: 'count', max_tokens: 8, stream: true });
  const times: number[] = [];
  for await (const chunk of stream) if (chunk.choices.length > 0) times.push(performance.now());
  assert.ok(times.length >= 8, `got ${times.length} chunks`);
  // The pod spaces tokens 30 ms apart (7 gaps = 210 ms); a buffering proxy would deliver them all at once.
  const spread = times.at(-1)! - times[0]!;
  assert.ok(spread >= 100, `chunks arrived within ${spread.toFixed(1)} ms of each other`);
});

test('a client that disconnects mid-stream aborts the upstream request', async () => {
  const phi = fleet.sims.get('phi-0')!;
  const ac = new AbortController();
  const stream = await client.completions.create({ model: PHI, prompt: 'long', max_tokens: 500, stream: true }, { signal: ac.signal });
  let chunks = 0;
  try {
    for await (const _ of stream) if (++chunks === 2) ac.abort();
  } catch {
    // the client library reports its own abort; what matters is what the pod does next
  }
  assert.equal(chunks, 2);
  assert.ok(await waitFor(() => phi.stats().running === 0, 3000), `phi-0 still generating: ${JSON.stringify(phi.stats())}`);
  assert.ok(await waitFor(() => gw.gateway.datastore.endpoint(`${phi.host}:${phi.port}`)?.inFlight === 0, 3000), 'gateway in-flight count not released');
});

test('GET /v1/models lists bases and adapters with parent; /healthz and /readyz answer', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id).sort();
  assert.deepEqual(ids, ['gemma-sql-lora', GEMMA, PHI, 'phi-code-lora'].sort());
  assert.equal((list.data.find((m) => m.id === 'phi-code-lora') as unknown as { parent: string }).parent, PHI);
  assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
  const ready = await fetch(`${gw.url}/readyz`);
  assert.equal(ready.status, 200);
});

test('explain prints each step from the same functions the server uses', async () => {
  const plan = await explainRequest({ configPath: cfg.dir, body: '{"model":"phi-code-lora","prompt":"hi"}', headers: ['X-Gateway-Base-Model-Name: google/gemma-2b-it'] });
  const text = renderPlan(plan).join('\n');
  assert.equal(plan.error, undefined, text);
  assert.match(text, /dropped client-sent routing header/);
  assert.match(text, /adapter of base model microsoft\/Phi-3-mini-4k-instruct \(from GET \/v1\/models of pod default\/phi-0\)/);
  assert.match(text, /HTTPRoute default\/phi rule 0/);
  assert.match(text, /InferencePool default\/phi/);
  assert.match(text, new RegExp(`pick: ${fleet.ipOf('phi-0').replaceAll('.', '\\.')}:${fleet.port}`));

  const bad = await explainRequest({ configPath: cfg.dir, body: '{"model":"down/model"}', headers: [] });
  const badText = renderPlan(bad).join('\n');
  assert.equal(bad.error?.status, 503);
  assert.match(badText, /pod default\/down-0: excluded: pod is not Ready/);
});

test('upstream HTTP errors pass through unchanged (status and body from the pod)', async () => {
  // The pod, not the gateway, rejects a chat request without messages: vLLM's own error shape must arrive.
  const r = await post('/v1/chat/completions', JSON.stringify({ model: GEMMA }));
  assert.equal(r.status, 400);
  assert.equal(r.json.error?.code, 400 as never, JSON.stringify(r.json));
  assert.ok(r.headers.get('x-gateway-destination-endpoint-served'), 'answered by a pod');
  assert.ok(r.headers.get('x-inference-pod')?.startsWith('gemma-'));
});
