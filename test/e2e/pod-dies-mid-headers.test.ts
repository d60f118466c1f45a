/**
 * A pod that dies part way through the headers of its answer (a crash, an OOM kill, a proxy in front of it that
 * breaks): it had read the request, so this is a reset, not the idle keep-alive connection a pod closes as a
 * request goes out on it (test/e2e/pod-idle-close.test.ts). The request is not sent to that pod again, the error
 * says the connection broke before an answer, and the failures count against the pod. A raw node:net pod on
 * 127.0.156.51 answers GETs as an idle vLLM does and every POST with half a status line, then closes; the
 * gateway on 127.0.156.50.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';

const POD = '127.0.156.51';
const HOST = '127.0.156.50';
const MODEL = 'dying/model';

let pod: Server;
let cfg: TempConfig;
let gw: RunningGateway;
/** POSTs the pod read (and broke off). */
let posts = 0;

function onConnection(sock: Socket): void {
  let buf = Buffer.alloc(0);
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
      if (method !== 'GET') {
        posts++;
        // The start of an answer, then the process is gone: a FIN after half a header.
        sock.end('HTTP/1.1 200 OK\r\ncontent-type: appl');
        return;
      }
      const body = path!.startsWith('/v1/models') ? JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', owned_by: 'vllm', root: MODEL, parent: null }] }) : '';
      sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
  });
}

before(async () => {
  pod = createServer(onConnection);
  await new Promise<void>((resolve) => pod.listen(0, POD, resolve));
  const port = (pod.address() as { port: number }).port;
  cfg = await tempConfig({ 'all.yaml': [podYaml('dying-0', POD, { app: 'dying' }), poolYaml('dying', { app: 'dying' }, port), prefixRouteYaml('all', '/v1/', 'dying')].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST });
  const listed = async (): Promise<boolean> => ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: unknown[] }).data.length > 0;
  assert.ok(await waitFor(listed), 'the model is discovered');
});

after(async () => {
  await gw?.close();
  await new Promise((resolve) => pod?.close(resolve));
  await cfg?.remove();
});

test('a pod that breaks off mid-headers: 502 saying the connection broke before an answer, the request not sent to it twice', async () => {
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [] }) });
  const body = (await r.json()) as { error: { message: string; code: string } };
  assert.equal(r.status, 502, JSON.stringify(body));
  assert.equal(body.error.code, 'upstream_unavailable');
  assert.match(body.error.message, /after 1 attempt\(s\): .*UND_ERR_SOCKET \(the connection was closed or reset before an answer\)/);
  assert.doesNotMatch(body.error.message, /idle keep-alive/, 'not taken for an idle connection the pod closed');
  assert.equal(posts, 1, 'the pod that had read it is not sent it again');
});
