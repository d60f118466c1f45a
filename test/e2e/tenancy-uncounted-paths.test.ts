/**
 * `--api-keys` on vLLM's endpoints that run no model: `/tokenize`, `/detokenize`, the Anthropic Messages API's
 * `count_tokens` (which the Anthropic SDKs and Claude Code send the whole conversation to) and the render API. Each
 * counts as a request, but its body is no tokens of the tenant's `tokensPerMinute`: a tenant may count a
 * conversation larger than its minute's tokens, and counting leaves its tokens for the generation that follows.
 * A scripted pod on 127.0.111.1 answers them all; the gateway listens on 127.0.111.2.
 */
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';
import { testTenancy } from '../helpers/tenancy.js';

const MODEL = 'm/model';
const KEY = 'ig-counting-tenant';
const TOKENS_PER_MINUTE = 1000;

let pod: ScriptedPod;
let cfg: TempConfig;
let keysDir: string;
let gw: RunningGateway;

const answer = (body: object) => (_req: unknown, res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

before(async () => {
  pod = await startScriptedPod({
    host: '127.0.111.1',
    model: MODEL,
    paths: {
      '/tokenize': answer({ count: 2000, max_model_len: 32768, tokens: [], token_strs: null }),
      '/detokenize': answer({ prompt: 'x' }),
      '/v1/messages/count_tokens': answer({ input_tokens: 2000 }),
      '/v1/chat/completions/render': answer({ request_id: 'r', token_ids: [], model: MODEL }),
      '/v1/completions/render': answer([{ request_id: 'r', token_ids: [], model: MODEL }]),
      '/v1/chat/completions': answer({ id: 'c', object: 'chat.completion', model: MODEL, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }),
    },
  });
  cfg = await tempConfig({ 'all.yaml': [podYaml('m-0', pod.host, { app: 'm' }), poolYaml('m', { app: 'm' }, pod.port), prefixRouteYaml('all', '/', 'm')].join('---\n') });
  keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  const tenancy = await testTenancy(keysDir, [{ key: KEY, name: 'team-count', models: ['*'], extra: { tokensPerMinute: TOKENS_PER_MINUTE } }]);
  gw = await startTestGateway(cfg.dir, { host: '127.0.111.2', adminHost: '127.0.111.2', tenancy });
  const listed = async (): Promise<boolean> => {
    const r = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    return r.status === 200 && ((await r.json()) as { data: unknown[] }).data.length > 0;
  };
  assert.ok(await waitFor(listed), 'the model is listed');
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

const post = (path: string, body: object): Promise<Response> =>
  fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) });

test("tokenizing, counting and rendering a prompt larger than the minute's tokens are served, and use none of them", async () => {
  // About 2,000 tokens at the gateway's 4 bytes a token: twice the tenant's minute.
  const long = 'word '.repeat(1600);
  const calls: [string, object][] = [
    ['/v1/messages/count_tokens?beta=true', { model: MODEL, messages: [{ role: 'user', content: long }] }],
    ['/tokenize', { model: MODEL, prompt: long }],
    ['/detokenize', { model: MODEL, tokens: Array.from({ length: 1500 }, (_, i) => i) }],
    ['/v1/chat/completions/render', { model: MODEL, messages: [{ role: 'user', content: long }] }],
    ['/v1/completions/render', { model: MODEL, prompt: long }],
  ];
  for (const [path, body] of calls) {
    const r = await post(path, body);
    assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
    await r.arrayBuffer();
  }
  const chat = { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
  const r = await post('/v1/chat/completions', chat);
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  // Only this request's estimate is taken from the minute: the calls before it took none.
  assert.equal(r.headers.get('x-ratelimit-remaining-tokens'), String(TOKENS_PER_MINUTE - Math.ceil(Buffer.byteLength(JSON.stringify(chat)) / 4)));
  assert.equal(r.headers.get('x-ratelimit-limit-tokens'), String(TOKENS_PER_MINUTE));
});
