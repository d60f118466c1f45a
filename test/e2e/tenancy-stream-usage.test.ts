/**
 * `--api-keys` and streams that did not ask for usage, end to end with the official `openai` client: the gateway
 * asks the pod for `stream_options.include_usage`, counts the stream's tokens against the tenant's tokens/min
 * limit (the next request is refused once over), and keeps the usage chunk from the client; a client that asked
 * for usage gets it. The token histograms see those streams too. A client that hangs up mid-stream is charged for
 * the token events it was sent. Simulated pods on 127.0.128.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { testTenancy, type TestKey } from '../helpers/tenancy.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
/** Output tokens per request: the simulator in random mode says exactly max_tokens. */
const OUTPUT = 240;
/** Above one request's estimate (body bytes / 4, ~35) but below estimate + OUTPUT: the second request is refused only if the first stream's usage was counted. */
const TPM = 250;
const KEYS: TestKey[] = [
  { key: 'ig-chat', name: 'team-chat', models: ['*'], extra: { tokensPerMinute: TPM } },
  { key: 'ig-completions', name: 'team-completions', models: ['*'], extra: { tokensPerMinute: TPM } },
  { key: 'ig-raw', name: 'team-raw', models: ['*'], extra: { tokensPerMinute: 100_000 } },
  { key: 'ig-asks', name: 'team-asks', models: ['*'], extra: { tokensPerMinute: 100_000 } },
  { key: 'ig-hangup', name: 'team-hangup', models: ['*'], extra: { tokensPerMinute: 100_000 } },
];

let fleet: Fleet;
let cfg: TempConfig;
let keysDir: string;
let gw: RunningGateway;
const client = (apiKey: string): OpenAI => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
const chat = { model: MODEL, messages: [{ role: 'user' as const, content: 'hello there' }], max_tokens: OUTPUT };

before(async () => {
  fleet = await startFleet(128, [{ name: 'llama-0', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 }]);
  cfg = await tempConfig({
    'all.yaml': [podYaml('llama-0', fleet.ipOf('llama-0'), { app: 'llama' }), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n'),
  });
  keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  gw = await startTestGateway(cfg.dir, { tenancy: await testTenancy(keysDir, KEYS) });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
  await rm(keysDir, { recursive: true, force: true });
});

async function metrics(): Promise<string> {
  return gw.metrics.registry.metrics();
}

/** `infergate_tenant_tokens_total` of a tenant, completion tokens. */
async function completionTokens(tenant: string): Promise<number> {
  const m = new RegExp(`^infergate_tenant_tokens_total\\{tenant="${tenant}",type="completion"\\} (\\d+)`, 'm').exec(await metrics());
  return m ? Number(m[1]) : 0;
}

/** The sum of llm-d's output-token histogram over every series. */
async function outputTokensObserved(): Promise<number> {
  let sum = 0;
  for (const m of (await metrics()).matchAll(/^llm_d_epp_request_output_tokens_sum\{[^}]*\} (\S+)$/gm)) sum += Number(m[1]);
  return sum;
}

function refusedForTokens(e: unknown): boolean {
  assert.ok(e instanceof OpenAI.RateLimitError, String(e));
  assert.equal(e.code, 'rate_limit_exceeded');
  assert.match(e.message, /tokens per min \(TPM\)/);
  return true;
}

test('a chat stream without include_usage is counted against tokens/min, and its client sees no usage chunk', async () => {
  const histogramBefore = await outputTokensObserved();
  const c = client('ig-chat');
  const stream = await c.chat.completions.create({ ...chat, stream: true });
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.length > OUTPUT, 'every token arrived');
  assert.ok(
    chunks.every((ch) => ch.usage === undefined && ch.choices.length > 0),
    'no usage chunk the client did not ask for',
  );
  assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
  assert.ok(await waitFor(async () => (await completionTokens('team-chat')) === OUTPUT), 'the stream’s completion tokens counted for the tenant');
  assert.ok(await waitFor(async () => (await outputTokensObserved()) === histogramBefore + OUTPUT), 'the output-token histogram saw the stream');
  await assert.rejects(c.chat.completions.create(chat), refusedForTokens);
});

test('a completions stream without include_usage is counted too', async () => {
  const c = client('ig-completions');
  const stream = await c.completions.create({ model: MODEL, prompt: 'hello there', max_tokens: OUTPUT, stream: true });
  let text = '';
  for await (const chunk of stream) {
    assert.equal(chunk.usage, undefined);
    assert.ok(chunk.choices.length > 0);
    text += chunk.choices[0]!.text;
  }
  assert.ok(text.length > 0);
  assert.ok(await waitFor(async () => (await completionTokens('team-completions')) === OUTPUT));
  await assert.rejects(c.completions.create({ model: MODEL, prompt: 'hello there', max_tokens: 1 }), refusedForTokens);
});

test('on the wire: include_usage false is asked as true upstream; the client gets every event and [DONE], no usage', async () => {
  const body = JSON.stringify({ ...chat, max_tokens: 3, stream: true, stream_options: { include_usage: false } });
  const r = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer ig-raw', 'content-type': 'application/json' }, body });
  assert.equal(r.statusCode, 200);
  const text = await r.body.text();
  const events = text.split('\n\n').filter((e) => e.length > 0);
  // The role chunk, three tokens, [DONE].
  assert.equal(events.length, 5, text);
  assert.ok(!text.includes('"usage"'), text);
  assert.equal(events.at(-1), 'data: [DONE]');
  assert.ok(await waitFor(async () => (await completionTokens('team-raw')) === 3));
});

test('a client that asked for usage gets its usage chunk, counted once', async () => {
  const stream = await client('ig-asks').chat.completions.create({ ...chat, max_tokens: 4, stream: true, stream_options: { include_usage: true } });
  const usage: OpenAI.CompletionUsage[] = [];
  for await (const chunk of stream) if (chunk.usage) usage.push(chunk.usage);
  assert.equal(usage.length, 1);
  assert.equal(usage[0]!.completion_tokens, 4);
  assert.ok(await waitFor(async () => (await completionTokens('team-asks')) === 4));
});

test('a stream its client hangs up on before the usage chunk is charged a token per token event it carried', async () => {
  const headers = { authorization: 'Bearer ig-hangup', 'content-type': 'application/json' };
  const streamBody = JSON.stringify({ ...chat, stream: true });
  const r = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: streamBody });
  let events = 0;
  for await (const piece of r.body) {
    events += (String(piece).match(/^data: /gm) ?? []).length;
    if (events >= 20) break; // leaving the loop destroys the body: the client hangs up
  }
  assert.ok(events >= 20 && events < OUTPUT, `hung up mid-stream after ${events} events`);
  // The request ended for every observer (tenancy among them) once it no longer runs.
  const running = async (): Promise<number> => [...(await metrics()).matchAll(/^llm_d_epp_request_running\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  assert.ok(await waitFor(async () => (await running()) === 0));
  const body = JSON.stringify({ ...chat, max_tokens: 1 });
  const next = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body });
  await next.body.dump();
  const estimate = (b: string): number => Math.ceil(Buffer.byteLength(b) / 4);
  // Both estimates, and at least the events the client itself read (the gateway may have passed on more).
  const remaining = Number(next.headers['x-ratelimit-remaining-tokens']);
  assert.ok(remaining <= 100_000 - estimate(streamBody) - estimate(body) - events, `remaining ${remaining}`);
});
