/**
 * `--api-keys` as one tenant among several sees it, with the official `openai` client: its 404s name only the
 * models its key may use, a model it may not use is its 403 whether or not anything serves it, and its
 * Responses API answers count against its token limits as chat answers do; an audio upload's bytes are not
 * taken for prompt tokens. Simulated pods on 127.0.196.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { waitFor } from '../helpers/fleet.js';
import { LLAMA, QWEN, startTenantGateway, type TenantGateway, type TestKey } from '../helpers/tenancy.js';

const KEYS: TestKey[] = [
  { key: 'ig-view-llama', name: 'team-llama', models: ['meta-llama/*'] },
  { key: 'ig-view-all', name: 'team-all', models: ['*'] },
  { key: 'ig-view-tokens', name: 'team-tokens', models: ['*'], extra: { tokensPerMinute: 10_000 } },
];

let env: TenantGateway;
let gw: RunningGateway;
const client = (apiKey: string): OpenAI => env.client(apiKey);

before(async () => {
  env = await startTenantGateway(196, KEYS, { host: '127.0.196.1' });
  gw = env.gw;
  assert.ok(await waitFor(async () => (await client('ig-view-all').models.list()).data.length === 2));
});

after(() => env?.close());

const chat = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hello there' }], max_tokens: 3 });

test("an unknown model's 404 names only the models the key may use; one it may not use is 403, served or not", async () => {
  const llama = client('ig-view-llama');
  await assert.rejects(llama.chat.completions.create(chat('meta-llama/nope')), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError, String(e));
    assert.equal(e.code, 'model_not_found');
    assert.match(e.message, /Served models: meta-llama\/Llama-3\.1-8B-Instruct\./);
    assert.ok(!e.message.includes(QWEN), e.message);
    return true;
  });
  // Not served, and not the key's: the same 403 as for a served model, so nothing tells the two apart.
  for (const model of ['nothing-here', QWEN]) {
    await assert.rejects(llama.chat.completions.create(chat(model)), (e: unknown) => {
      assert.ok(e instanceof OpenAI.PermissionDeniedError, String(e));
      assert.equal(e.code, 'model_not_allowed');
      assert.ok(!e.message.includes(QWEN) || model === QWEN, e.message);
      return true;
    });
    await assert.rejects(llama.models.retrieve(model), (e: unknown) => e instanceof OpenAI.PermissionDeniedError && e.code === 'model_not_allowed');
  }
  await assert.rejects(llama.models.retrieve('meta-llama/nope'), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError, String(e));
    assert.ok(!e.message.includes(QWEN), e.message);
    return true;
  });
  // A key for every model still sees every served model in its 404.
  await assert.rejects(client('ig-view-all').chat.completions.create(chat('nothing-here')), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError, String(e));
    assert.ok(e.message.includes(QWEN) && e.message.includes(LLAMA), e.message);
    return true;
  });
});

test("a Responses API answer's usage (input_tokens, output_tokens) counts against the tenant's tokens", async () => {
  const body = JSON.stringify({ model: LLAMA, input: 'hello there', max_output_tokens: 40 });
  const send = async (): Promise<{ remaining: number; usage: { input_tokens: number; output_tokens: number } }> => {
    const r = await request(`${gw.url}/v1/responses`, { method: 'POST', headers: { authorization: 'Bearer ig-view-tokens', 'content-type': 'application/json' }, body });
    assert.equal(r.statusCode, 200);
    const json = (await r.body.json()) as { usage: { input_tokens: number; output_tokens: number } };
    return { remaining: Number(r.headers['x-ratelimit-remaining-tokens']), usage: json.usage };
  };
  const first = await send();
  assert.ok(first.usage.output_tokens > 0);
  const metric = async (type: string): Promise<number> => {
    const m = new RegExp(`^infergate_tenant_tokens_total\\{tenant="team-tokens",type="${type}"\\} (\\d+)`, 'm').exec(await gw.metrics.registry.metrics());
    return m ? Number(m[1]) : 0;
  };
  assert.ok(await waitFor(async () => (await metric('completion')) === first.usage.output_tokens), 'output tokens counted');
  assert.equal(await metric('prompt'), first.usage.input_tokens);
  // The second is charged the first's actual usage plus its own estimate, not the first's estimate alone.
  const second = await send();
  assert.equal(second.remaining, 10_000 - first.usage.input_tokens - first.usage.output_tokens - Math.ceil(Buffer.byteLength(body) / 4));
});

test("an audio upload's bytes are not taken for prompt tokens: a 1 MB recording passes a tokensPerMinute of 10,000", async () => {
  const form = new FormData();
  form.append('model', LLAMA);
  form.append('file', new Blob([Buffer.alloc(1_000_000, 1)], { type: 'audio/wav' }), 'a.wav');
  const r = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: 'Bearer ig-view-tokens' }, body: form });
  const text = await r.text();
  assert.notEqual(r.status, 429, text);
  assert.ok(Number(r.headers.get('x-ratelimit-remaining-tokens')) > 9_000, String(r.headers.get('x-ratelimit-remaining-tokens')));
});
