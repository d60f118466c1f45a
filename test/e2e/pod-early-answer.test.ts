/**
 * A pod that answers before it has read the request body (a 413 or 400 decided on the headers or the first bytes)
 * and then resets the connection, while the gateway is still sending the body: the client gets the pod's own
 * answer, status and body, not a 502, however the answer is framed. A raw node:net pod on 127.0.239.21 (it
 * answers the gateway's discovery as vLLM does); the gateway on 127.0.239.20.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';

const POD = '127.0.239.21';
const MODEL = 'early/model';
const ANSWER = JSON.stringify({ error: { message: 'the prompt is too long for this pod', type: 'BadRequestError', param: null, code: 413 } });

/** How the pod frames its early answer: a Content-Length, chunked, or ended by closing the connection. */
type Framing = 'length' | 'chunked' | 'eof';
let framing: Framing = 'length';

function earlyAnswer(f: Framing): string {
  const head = 'HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\nconnection: close\r\n';
  if (f === 'length') return `${head}content-length: ${Buffer.byteLength(ANSWER)}\r\n\r\n${ANSWER}`;
  if (f === 'chunked') return `${head}transfer-encoding: chunked\r\n\r\n${Buffer.byteLength(ANSWER).toString(16)}\r\n${ANSWER}\r\n0\r\n\r\n`;
  return `${head}\r\n${ANSWER}`;
}

/** GETs (discovery, scrapes) are answered as an idle vLLM would; a POST gets the early answer and a reset at once. */
function onConnection(sock: Socket): void {
  let buf = Buffer.alloc(0);
  let answered = false;
  sock.on('error', () => undefined);
  sock.on('data', (d: Buffer) => {
    if (answered) return;
    buf = Buffer.concat([buf, d]);
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0 && !answered; end = buf.indexOf('\r\n\r\n')) {
      const [method, path] = buf.subarray(0, end).toString('latin1').split(' ', 2);
      buf = buf.subarray(end + 4);
      if (method === 'GET') {
        const body = path!.startsWith('/v1/models') ? JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', owned_by: 'vllm', root: MODEL, parent: null, max_model_len: 4096 }] }) : '';
        sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        continue;
      }
      answered = true;
      // Written, then the connection reset with the body still coming: the kernel sends RST, not FIN.
      sock.write(earlyAnswer(framing));
      sock.resetAndDestroy();
    }
  });
}

let pod: Server;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  pod = createServer(onConnection);
  await new Promise<void>((resolve) => pod.listen(0, POD, resolve));
  const port = (pod.address() as { port: number }).port;
  cfg = await tempConfig({ 'all.yaml': [podYaml('early-0', POD, { app: 'early' }), poolYaml('early', { app: 'early' }, port), prefixRouteYaml('all', '/v1/', 'early')].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: '127.0.239.20', adminHost: '127.0.239.20', maxBodyBytes: 8 * 1024 * 1024 });
  const listed = async (): Promise<boolean> => ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: unknown[] }).data.length > 0;
  assert.ok(await waitFor(listed), 'the model is discovered');
});

after(async () => {
  await gw?.close();
  await new Promise((resolve) => pod?.close(resolve));
  await cfg?.remove();
});

// 4 MiB: more than the socket buffers take, so the gateway is still writing when the answer and the reset come.
const BODY = JSON.stringify({ model: MODEL, prompt: 'x'.repeat(4 * 1024 * 1024) });

for (const f of ['length', 'chunked', 'eof'] as const) {
  test(`an early answer (${f}) followed by a reset reaches the client as the pod sent it`, async () => {
    framing = f;
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
      assert.equal(r.status, 413);
      assert.equal(await r.text(), ANSWER);
    }
  });
}
