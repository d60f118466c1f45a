/**
 * Answers that never have a body whatever their headers say (RFC 9110 §6.4.1): a 304 Not Modified whose
 * Content-Length gives the size the 200 would have had (§8.6 allows it), and a 204 from a pod that wrongly adds a
 * length and bytes after it. The client gets the pod's status and headers, and its keep-alive connection goes on
 * serving. The pod is a scripted one (test/helpers/scripted-pod.ts) writing raw answers, on 127.0.14.21.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { TempConfig } from '../helpers/fleet.js';
import { startGatewayOver, startScriptedPod, type ScriptedPod, type Script } from '../helpers/scripted-pod.js';

const POD = '127.0.14.21';
const HOST = '127.0.14.20';
const MODEL = 'bodiless/model';

let pod: ScriptedPod;
let cfg: TempConfig;
let gw: RunningGateway;

/** Writes `raw` on the pod's connection as its whole answer. */
const rawAnswer = (raw: string): Script => (req) => void req.socket.write(raw);

before(async () => {
  pod = await startScriptedPod({
    host: POD,
    model: MODEL,
    paths: {
      '/v1/not-modified': rawAnswer('HTTP/1.1 304 Not Modified\r\netag: "v1"\r\ncontent-length: 42\r\n\r\n'),
      '/v1/no-content': rawAnswer('HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello'),
      '/v1/ok': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    },
  });
  ({ gw, cfg } = await startGatewayOver('bodiless', [pod], { host: HOST, adminHost: HOST }));
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
});

/** One keep-alive connection for the whole test: an answer cut by the gateway would end it. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
after(() => agent.destroy());

/** POSTs a request for MODEL to `path` with node:http (which takes a 304's Content-Length as RFC 9110 does). */
function post(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const body = JSON.stringify({ model: MODEL });
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test("a 304 with the representation's Content-Length reaches the client as the pod sent it, not a cut connection", async () => {
  const r = await post('/v1/not-modified');
  assert.equal(r.status, 304);
  assert.equal(r.headers.etag, '"v1"');
  assert.equal(r.headers['content-length'], '42');
  assert.equal(r.body, '');
  assert.ok(r.headers['x-request-id'], 'the gateway added its request id');
});

test('a 204 with a length and bytes after it: the client gets the 204 without them', async () => {
  const r = await post('/v1/no-content');
  assert.equal(r.status, 204);
  assert.equal(r.body, '');
});

test('the same client connection and the pod go on serving after them', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await post(i % 2 === 0 ? '/v1/not-modified' : '/v1/ok');
    assert.equal(r.status, i % 2 === 0 ? 304 : 200);
  }
  const ok = await post('/v1/ok');
  assert.equal(ok.body, '{"ok":true}');
});
