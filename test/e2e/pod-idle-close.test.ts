/**
 * A pod that closes a keep-alive connection just as the gateway sends a request on it, as uvicorn (so vLLM) does
 * to connections idle for its 5 s keep-alive timeout while the gateway's client keeps them 30 s: the pod never
 * saw the request, and it is sent again on a new connection, to the same pod if need be, rather than failing a
 * one-pod pool with 502. A raw node:net pod on 127.0.19.21 answers the first request of each connection and
 * closes the connection (a FIN, the request read) on the second; the gateway on 127.0.19.20.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';

const POD = '127.0.19.21';
const HOST = '127.0.19.20';
const MODEL = 'idle/model';

let pod: Server;
let cfg: TempConfig;
let gw: RunningGateway;
/** POSTs the pod answered, and those it closed the connection on. */
let answered = 0;
let closedOn = 0;

/** GETs (discovery, scrapes) are answered as an idle vLLM would; the second POST on a connection gets a close. */
function onConnection(sock: Socket): void {
  let buf = Buffer.alloc(0);
  let posts = 0;
  sock.on('error', () => undefined);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    // Bounded by the bytes received: each turn takes one request's head (and a POST's body) off the buffer.
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
      const head = buf.subarray(0, end).toString('latin1');
      const [method, path] = head.split(' ', 2);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      buf = buf.subarray(end + 4 + length);
      let body = '';
      if (method === 'GET') {
        body = path!.startsWith('/v1/models') ? JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', owned_by: 'vllm', root: MODEL, parent: null }] }) : '';
      } else if (++posts === 2) {
        closedOn++;
        sock.end();
        return;
      } else {
        answered++;
        body = '{"ok":true}';
      }
      sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
  });
}

before(async () => {
  pod = createServer(onConnection);
  await new Promise<void>((resolve) => pod.listen(0, POD, resolve));
  const port = (pod.address() as { port: number }).port;
  cfg = await tempConfig({ 'all.yaml': [podYaml('idle-0', POD, { app: 'idle' }), poolYaml('idle', { app: 'idle' }, port), prefixRouteYaml('all', '/v1/', 'idle')].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST });
  const listed = async (): Promise<boolean> => ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: unknown[] }).data.length > 0;
  assert.ok(await waitFor(listed), 'the model is discovered');
});

after(async () => {
  await gw?.close();
  await new Promise((resolve) => pod?.close(resolve));
  await cfg?.remove();
});

test('requests on a connection the pod closed as they went out are sent again on a new one: every request of a one-pod pool answered', async () => {
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [] }) });
    assert.equal(r.status, 200, `request ${i}: ${await r.clone().text()}`);
    assert.equal(await r.text(), '{"ok":true}');
  }
  assert.equal(answered, 4);
  assert.ok(closedOn >= 1, 'the pod closed a reused connection at least once');
  const ready = (await (await fetch(`${gw.adminUrl}/readyz`)).json()) as { details?: { ejected?: unknown } };
  assert.equal(ready.details?.ejected, undefined, 'the pod is not ejected for it');
});
