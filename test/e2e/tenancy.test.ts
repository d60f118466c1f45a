/**
 * `--api-keys` end to end with the official `openai` client: 401 invalid_api_key, 403 naming the key's models,
 * /v1/models filtered, x-ratelimit-* headers on every answer, 429 rate_limit_exceeded with retry-after, tokens
 * counted from `usage` (streamed and not) and the estimate corrected by it, keys file reloads.
 * Simulated pods on 127.0.100.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import OpenAI from 'openai';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { waitFor } from '../helpers/fleet.js';
import { LLAMA, QWEN, keysYaml, startTenantGateway, type TenantGateway, type TestKey } from '../helpers/tenancy.js';

const KEYS: TestKey[] = [
  { key: 'ig-llama-only', name: 'team-llama', models: ['meta-llama/*'], extra: { requestsPerMinute: 100, tokensPerMinute: 100_000 } },
  { key: 'ig-all', name: 'team-all', models: ['*'] },
  { key: 'ig-tight', name: 'team-tight', models: ['*'], extra: { requestsPerMinute: 2, tokensPerMinute: 100_000 } },
  { key: 'ig-tokens', name: 'team-tokens', models: ['*'], extra: { tokensPerMinute: 10_000 } },
];

let env: TenantGateway;
let gw: RunningGateway;
const client = (apiKey: string): OpenAI => env.client(apiKey);

before(async () => {
  env = await startTenantGateway(100, KEYS);
  gw = env.gw;
});

after(() => env?.close());

const chat = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hello there' }], max_tokens: 5 });

test('a missing or unknown key is 401 invalid_api_key', async () => {
  await assert.rejects(client('ig-unknown').chat.completions.create(chat(LLAMA)), (e: unknown) => {
    assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_api_key');
    assert.match(e.message, /Incorrect API key provided/);
    return true;
  });
  // The openai client always sends a key: a bare request sends none.
  const none = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat(LLAMA)) });
  assert.equal(none.statusCode, 401);
  const err = (await none.body.json()) as { error: { code: string; type: string; message: string } };
  assert.equal(err.error.code, 'invalid_api_key');
  assert.equal(err.error.type, 'invalid_request_error');
  assert.match(err.error.message, /did not provide an API key/);
  // Azure-style clients send `api-key`.
  const r = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'api-key': 'ig-all', 'content-type': 'application/json' }, body: JSON.stringify(chat(LLAMA)) });
  assert.equal(r.statusCode, 200);
  await r.body.dump();
});

test('a model the key may not use is 403, naming what it may use; /v1/models lists only those', async () => {
  await assert.rejects(client('ig-llama-only').chat.completions.create(chat(QWEN)), (e: unknown) => {
    assert.ok(e instanceof OpenAI.PermissionDeniedError, String(e));
    assert.equal(e.code, 'model_not_allowed');
    assert.match(e.message, /meta-llama\/\*/);
    return true;
  });
  assert.ok(await waitFor(async () => (await client('ig-all').models.list()).data.length === 2));
  assert.deepEqual((await client('ig-llama-only').models.list()).data.map((m) => m.id), [LLAMA]);
});

test('every answer carries x-ratelimit-*; past the limit 429 rate_limit_exceeded with retry-after', async () => {
  const c = client('ig-tight');
  const { response } = await c.chat.completions.create(chat(LLAMA)).withResponse();
  assert.equal(response.headers.get('x-ratelimit-limit-requests'), '2');
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '1');
  assert.equal(response.headers.get('x-ratelimit-reset-requests'), '30s');
  assert.equal(response.headers.get('x-ratelimit-limit-tokens'), '100000');
  assert.ok(response.headers.get('x-ratelimit-remaining-tokens') !== null);
  await c.chat.completions.create(chat(LLAMA));
  await assert.rejects(c.chat.completions.create(chat(LLAMA)), (e: unknown) => {
    assert.ok(e instanceof OpenAI.RateLimitError, String(e));
    assert.equal(e.code, 'rate_limit_exceeded');
    // OpenAI's type names the limit reached (requests or tokens), as the SDK's error.type reads it.
    assert.equal(e.type, 'requests');
    assert.equal(e.headers.get('retry-after'), '30');
    assert.equal(e.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(e.headers.get('x-ratelimit-reset-requests'), '30s');
    assert.match(e.message, /requests per min \(RPM\): Limit 2, Used 2/);
    return true;
  });
});

test("tokens are counted from the response's usage, streamed and not, and correct the prompt's estimate", async () => {
  const c = client('ig-tokens');
  const done = await c.chat.completions.create(chat(LLAMA));
  const stream = await c.chat.completions.create({ ...chat(QWEN), stream: true, stream_options: { include_usage: true } });
  let streamed: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) if (chunk.usage) streamed = chunk.usage;
  assert.ok(done.usage && streamed);
  const total = done.usage.total_tokens + streamed.total_tokens;
  const metric = async (type: string): Promise<number> => {
    const text = await gw.metrics.registry.metrics();
    const m = new RegExp(`^infergate_tenant_tokens_total\\{tenant="team-tokens",type="${type}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  assert.ok(await waitFor(async () => (await metric('completion')) === done.usage!.completion_tokens + streamed!.completion_tokens), 'completion tokens counted');
  assert.equal(await metric('prompt'), done.usage.prompt_tokens + streamed.prompt_tokens);
  // The next request is charged the actual usage so far plus its own estimate (body bytes / 4), not the earlier estimates.
  const body = JSON.stringify(chat(LLAMA));
  const r = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer ig-tokens', 'content-type': 'application/json' }, body });
  await r.body.dump();
  assert.equal(r.headers['x-ratelimit-remaining-tokens'], String(10_000 - total - Math.ceil(Buffer.byteLength(body) / 4)));
  const text = await gw.metrics.registry.metrics();
  assert.match(text, /infergate_tenant_requests_total\{tenant="team-tokens"\} 3/);
  assert.match(text, /infergate_tenant_rejections_total\{tenant="",reason="invalid_api_key"\}/);
  for (const secret of ['ig-tokens', 'ig-all', 'sha256:']) assert.ok(!text.includes(secret), `metrics never show ${secret}`);
});

test('the keys file is watched: a new key works at once, a bad edit keeps the last good keys', async () => {
  const file = env.keysFile;
  await writeFile(file, keysYaml([...KEYS, { key: 'ig-new', name: 'team-new', models: ['*'] }]));
  assert.ok(await waitFor(async () => (await request(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer ig-new' } }).then(async (r) => (await r.body.dump(), r.statusCode))) === 200));
  await writeFile(file, 'keys: [{name: broken}]');
  assert.ok(await waitFor(() => env.tenancy.keys.problem !== undefined));
  assert.equal((await client('ig-new').models.list()).object, 'list');
});
