/**
 * A pod that sends back the headers the gateway sets itself: vLLM started with --enable-request-id-headers echoes
 * `X-Request-Id`, and a pod behind another gateway may name the endpoint that served it. The client gets each header
 * once, the gateway's, on answers and on a pod's errors alike; before, it got both copies, which the openai client's
 * `request_id` read as `abc, abc`. The pod is a scripted one (test/helpers/scripted-pod.ts) on 127.0.205.20.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { TempConfig } from '../helpers/fleet.js';
import { startGatewayOver, startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';

const POD = '127.0.205.20';
const HOST = '127.0.205.21';
const MODEL = 'echo/model';

let pod: ScriptedPod;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  // Answers every chat request with the client's X-Request-Id (its own when none came) and a destination header of
  // its own; a prompt of "fail" gets vLLM's 400.
  pod = await startScriptedPod({
    host: POD,
    model: MODEL,
    paths: {
      '/v1/chat/completions': (req, res, body) => {
        const echoed = { 'x-request-id': req.headers['x-request-id'] ?? 'pod-own-id', 'x-gateway-destination-endpoint-served': '10.9.9.9:8000' };
        if (body.includes('fail')) {
          return void res.writeHead(400, { 'content-type': 'application/json', ...echoed }).end(JSON.stringify({ error: { message: 'bad', type: 'BadRequestError', param: null, code: 400 } }));
        }
        const answer = { id: 'c', object: 'chat.completion', created: 1, model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] };
        res.writeHead(200, { 'content-type': 'application/json', ...echoed }).end(JSON.stringify(answer));
      },
    },
  });
  ({ gw, cfg } = await startGatewayOver('echo', [pod], { host: HOST, adminHost: HOST }));
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
});

test("the openai client's request_id is the client's id, once, and the served endpoint is the gateway's", async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const { request_id, response } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'abc' } }).withResponse();
  assert.equal(request_id, 'abc');
  assert.equal(response.headers.get('x-gateway-destination-endpoint-served'), `${POD}:${pod.port}`);
});

test("a pod's error carries the header once too", async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'fail' }] }, { headers: { 'x-request-id': 'def' } }).then(
    () => assert.fail('the request succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.BadRequestError);
  assert.equal(err.requestID, 'def');
  // Without an id of its own, the client gets the gateway's generated one, not the pod's as well.
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }) });
  await res.arrayBuffer();
  assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});
