/**
 * An endpoint that answers with bytes that are not HTTP may have run the request, so the gateway does not send it
 * again, and its 502 carries `x-should-retry: false` so that the openai client does not either (it retries every
 * 502 otherwise, which sent the request twice more). The pod is a scripted one
 * (test/helpers/scripted-pod.ts) on 127.0.208.2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { TempConfig } from '../helpers/fleet.js';
import { startGatewayOver, startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';

const POD = '127.0.208.2';
const HOST = '127.0.208.1';
const MODEL = 'garbled/model';

let pod: ScriptedPod;
let cfg: TempConfig;
let gw: RunningGateway;
let received = 0;

before(async () => {
  // Answers a chat request with a line that is not HTTP.
  pod = await startScriptedPod({
    host: POD,
    model: MODEL,
    paths: {
      '/v1/chat/completions': (req) => {
        received++;
        req.socket.end('NOT-HTTP garbage\r\n\r\n');
      },
    },
  });
  ({ gw, cfg } = await startGatewayOver('garbled', [pod], { host: HOST, adminHost: HOST }));
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
});

test('the 502 says not to retry, and the openai client sends the request once', async () => {
  // The SDK's default: two retries of a 502, none on x-should-retry: false.
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 2 });
  const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).then(
    () => assert.fail('the request succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.APIError);
  assert.deepEqual([err.status, err.code], [502, 'upstream_unavailable'], err.message);
  assert.match(err.message, /endpoint 127\.0\.208\.2:\d+ \(pod default\/garbled-0\) failed: HTTPParserError/);
  assert.equal(err.headers?.get('x-should-retry'), 'false');
  assert.equal(received, 1, 'the pod got the request once');
});
