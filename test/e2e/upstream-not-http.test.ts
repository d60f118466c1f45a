/**
 * An endpoint that answers with bytes that are not HTTP may have run the request, so the gateway does not send it
 * again, and its 502 carries `x-should-retry: false` so that the openai client does not either (it retries every
 * 502 otherwise, which sent the request twice more). The pod is a plain HTTP server on 127.0.208.2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';

const POD = '127.0.208.2';
const HOST = '127.0.208.1';
const MODEL = 'garbled/model';

let pod: Server;
let cfg: TempConfig;
let gw: RunningGateway;
let received = 0;

before(async () => {
  const models = JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', root: MODEL, parent: null }] });
  // Lists its model; answers an inference request with a line that is not HTTP.
  pod = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end(models);
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('');
      received++;
      req.socket.end('NOT-HTTP garbage\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => pod.listen(0, POD, resolve));
  const port = (pod.address() as AddressInfo).port;
  cfg = await tempConfig({ 'all.yaml': [podYaml('garbled-0', POD, { app: 'garbled' }), poolYaml('garbled', { app: 'garbled' }, port), prefixRouteYaml('all', '/v1/', 'garbled')].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST });
  assert.ok(await waitFor(async () => (await fetch(`${gw.url}/v1/models`).then((r) => r.json() as Promise<{ data: unknown[] }>)).data.length > 0), 'the model is discovered');
});

after(async () => {
  await gw?.close();
  await new Promise<void>((resolve) => pod.close(() => resolve()));
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
