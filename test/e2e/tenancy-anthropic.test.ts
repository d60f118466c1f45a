/**
 * `--api-keys` for the Anthropic SDKs, which send their key as `x-api-key` (not `Authorization: Bearer`) to
 * /v1/messages, the Messages API vLLM serves: the key is taken there, never forwarded, and a missing or wrong
 * one gets the 401 in Anthropic's shape (`authentication_error`), which those SDKs raise as an AuthenticationError.
 * A scripted pod on 127.0.236.1 echoes the headers it was sent; the gateway listens on 127.0.236.2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';
import { testTenancy } from '../helpers/tenancy.js';

const MODEL = 'claude-like/model';
const KEY = 'ig-anthropic-sdk';

let pod: ScriptedPod;
let cfg: TempConfig;
let keysDir: string;
let gw: RunningGateway;

before(async () => {
  pod = await startScriptedPod({
    host: '127.0.236.1',
    model: MODEL,
    paths: {
      '/v1/messages': (req, res) => {
        const body = JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: MODEL, content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 }, seen: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      },
    },
  });
  cfg = await tempConfig({ 'all.yaml': [podYaml('m-0', pod.host, { app: 'm' }), poolYaml('m', { app: 'm' }, pod.port), prefixRouteYaml('all', '/v1/', 'm')].join('---\n') });
  keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  const tenancy = await testTenancy(keysDir, [{ key: KEY, name: 'team-claude', models: ['*'] }]);
  gw = await startTestGateway(cfg.dir, { host: '127.0.236.2', adminHost: '127.0.236.2', tenancy });
  // The Anthropic SDKs' models.list sends x-api-key too.
  const listed = async (): Promise<boolean> => {
    const r = await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': KEY } });
    return r.status === 200 && ((await r.json()) as { data: unknown[] }).data.length > 0;
  };
  assert.ok(await waitFor(listed), 'the model is listed to an x-api-key');
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

/** A request as the Anthropic SDKs send one (`?beta=true` from their beta calls). */
const messages = (headers: Record<string, string>): Promise<Response> =>
  fetch(`${gw.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
  });

test('the key in x-api-key is taken on /v1/messages, and the pod is sent none of the client credentials', async () => {
  const r = await messages({ 'x-api-key': KEY });
  assert.equal(r.status, 200);
  const answer = (await r.json()) as { type: string; seen: Record<string, string> };
  assert.equal(answer.type, 'message');
  for (const h of ['x-api-key', 'authorization', 'api-key']) assert.equal(answer.seen[h], undefined, `${h} is not forwarded`);
  assert.equal(answer.seen['anthropic-version'], '2023-06-01');
});

test("a missing or wrong key is 401 in Anthropic's shape, authentication_error, naming x-api-key", async () => {
  for (const headers of [{}, { 'x-api-key': 'ig-wrong' }] as Record<string, string>[]) {
    const r = await messages(headers);
    assert.equal(r.status, 401);
    const answer = (await r.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(answer.type, 'error');
    assert.equal(answer.error.type, 'authentication_error');
    if (Object.keys(headers).length === 0) assert.match(answer.error.message, /x-api-key/);
  }
});
