/**
 * A pod whose answer carries more header bytes than the gateway reads (undici's limit, Node's
 * --max-http-header-size): the client's 502 names the limit and the fix, not undici's bare "Headers Overflow
 * Error". The pod is a scripted one (test/helpers/scripted-pod.ts) writing a raw answer, on 127.0.41.31.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { maxHeaderSize } from 'node:http';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { TempConfig } from '../helpers/fleet.js';
import { startGatewayOver, startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';

const POD = '127.0.41.31';
const HOST = '127.0.41.30';
const MODEL = 'overflow/model';

let pod: ScriptedPod;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  const big = 'x'.repeat(maxHeaderSize + 1024);
  pod = await startScriptedPod({
    host: POD,
    model: MODEL,
    paths: {
      '/v1/completions': (req) => void req.socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-debug: ${big}\r\ncontent-length: 2\r\n\r\n{}`),
    },
  });
  ({ gw, cfg } = await startGatewayOver('overflow', [pod], { host: HOST, adminHost: HOST }));
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
});

test("a pod's oversized response headers get a 502 naming the limit and the fix", async () => {
  const res = await fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt: 'hi' }) });
  assert.equal(res.status, 502);
  const body = (await res.json()) as { error: { message: string; code: string } };
  assert.equal(body.error.code, 'upstream_unavailable');
  assert.match(body.error.message, new RegExp(`its response headers are larger than the gateway reads \\(${maxHeaderSize} bytes`));
  assert.match(body.error.message, /--max-http-header-size/);
  assert.doesNotMatch(body.error.message, /Headers Overflow Error/);
});
