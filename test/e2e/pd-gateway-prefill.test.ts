/**
 * `serve --kv-connector nixlv2`: the gateway makes P/D's prefill leg itself, as llm-d's routing sidecar would in
 * front of the decode pod. Scripted pods (127.0.254.x) record the bodies and headers they get; the prefill pod
 * answers vLLM NixlConnector's `kv_transfer_params`. A failed prefill leaves the decode pod to do the whole request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';
import { ALWAYS_PD_CONFIG } from '../helpers/epp-configs.js';

const MODEL = 'pd/model';
const ROLE = 'llm-d.ai/role';
const KV = { do_remote_prefill: true, do_remote_decode: false, remote_block_ids: [0, 1, 2], remote_engine_id: 'prefill-engine', remote_host: '127.0.254.2', remote_port: 5600, tp_size: 1 };

type Seen = { headers: IncomingHttpHeaders; body: Record<string, unknown> };
const seen: Record<'prefill' | 'decode', Seen[]> = { prefill: [], decode: [] };
/** What the prefill pod answers: its status. */
let prefillStatus = 200;
const pods: ScriptedPod[] = [];
let cfg: TempConfig;
let gw: RunningGateway;

const completion = (extra: Record<string, unknown> = {}) => ({ id: 'c', object: 'chat.completion', created: 1, model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 }, ...extra });

before(async () => {
  const decode = await startScriptedPod({
    host: '127.0.254.1',
    port: 0,
    model: MODEL,
    paths: {
      '/v1/chat/completions': (req, res, body) => {
        const json = JSON.parse(body) as Record<string, unknown>;
        seen.decode.push({ headers: req.headers, body: json });
        if (json.stream === true) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
        } else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion()));
      },
    },
  });
  const prefill = await startScriptedPod({
    host: '127.0.254.2',
    port: decode.port,
    model: MODEL,
    paths: {
      '/v1/chat/completions': (req, res, body) => {
        seen.prefill.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
        if (prefillStatus !== 200) return void res.writeHead(prefillStatus, { 'content-type': 'application/json' }).end('{"error":{"message":"prefill failed"}}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion({ kv_transfer_params: KV })));
      },
    },
  });
  pods.push(decode, prefill);
  const pool = poolYaml('pd', { app: 'pd' }, decode.port).replace('metadata:\n  name: pd', 'metadata:\n  name: pd\n  annotations: {infergate.io/endpoint-picker-config: pd-epp}');
  cfg = await tempConfig({
    'all.yaml': [podYaml('pd-decode', decode.host, { app: 'pd', [ROLE]: 'decode' }), podYaml('pd-prefill', prefill.host, { app: 'pd', [ROLE]: 'prefill' }), pool, prefixRouteYaml('all', '/v1/', 'pd'), eppConfigMapYaml('pd-epp', ALWAYS_PD_CONFIG)].join('---\n'),
  });
  gw = await startTestGateway(cfg.dir, { host: '127.0.254.10', adminHost: '127.0.254.10', kvConnector: 'nixlv2' });
  const listed = async (): Promise<boolean> => ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: unknown[] }).data.length > 0;
  assert.ok(await waitFor(listed), 'the model is discovered');
});

after(async () => {
  await gw?.close();
  for (const p of pods) await p.close();
  await cfg?.remove();
});

test('the prefill pod gets one token to make, not streamed, with do_remote_decode; the decode pod gets the request as sent, with the prefill\'s kv_transfer_params', async () => {
  seen.prefill.length = seen.decode.length = 0;
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'a long question' }], stream: true, stream_options: { include_usage: true }, max_tokens: 50 });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'hi');

  assert.equal(seen.prefill.length, 1);
  const p = seen.prefill[0]!;
  assert.deepEqual(p.body.kv_transfer_params, { do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null });
  assert.equal(p.body.stream, false);
  assert.equal('stream_options' in p.body, false);
  assert.deepEqual([p.body.max_tokens, p.body.max_completion_tokens, p.body.min_tokens], [1, 1, 1]);
  assert.match(String(p.headers['x-request-id']), /^[0-9a-f-]{36}$/);

  assert.equal(seen.decode.length, 1);
  const d = seen.decode[0]!;
  assert.deepEqual(d.body.kv_transfer_params, KV);
  assert.equal(d.body.stream, true);
  assert.deepEqual(d.body.stream_options, { include_usage: true });
  assert.equal(d.body.max_tokens, 50);
  assert.equal('max_completion_tokens' in d.body, false, 'limits the client did not set stay unset');
  assert.equal(d.headers['x-prefiller-host-port'], undefined, 'the gateway made the prefill: a sidecar must not make it again');
});

test('a prefill pod that fails leaves the decode pod to do the whole request; the client sees no error', async () => {
  seen.prefill.length = seen.decode.length = 0;
  prefillStatus = 503;
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'q' }] });
    assert.equal(r.choices[0]?.message.content, 'hi');
  } finally {
    prefillStatus = 200;
  }
  assert.equal(seen.prefill.length, 1);
  assert.equal(seen.decode.length, 1);
  assert.equal('kv_transfer_params' in seen.decode[0]!.body, false);
  assert.equal(seen.decode[0]!.headers['x-prefiller-host-port'], undefined);
});
