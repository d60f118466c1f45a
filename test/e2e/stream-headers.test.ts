/**
 * A stream's response headers reach the client when the model server sends them, before its first token, although
 * the gateway no longer flushes them on their own when a first chunk comes with them (issue #11: one socket write
 * fewer per streamed request).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { baseModelRouteYaml, podYaml, poolYaml, startTestGateway, tempConfig } from '../helpers/fleet.js';
import { startScriptedPod } from '../helpers/scripted-pod.js';

const MODEL = 'test/stream-headers';
const HOST = '127.0.150.2';

const chunk = (content: string): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: MODEL, choices: [{ index: 0, delta: { content } }] })}\n\n`;

test('the headers of a stream reach the client before its first token, and with it when they come together', { timeout: 20_000 }, async () => {
  let release: () => void = () => undefined;
  let together = false;
  const pod = await startScriptedPod({
    host: HOST,
    model: MODEL,
    paths: {
      '/v1/chat/completions': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (together) {
          // Headers, a token and the end in one write, as a fast answer arrives.
          res.end(`${chunk('all at once')}data: [DONE]\n\n`);
          return;
        }
        res.flushHeaders();
        // The first token waits until the client has seen the headers.
        release = () => res.end(`${chunk('hello')}data: [DONE]\n\n`);
      },
    },
  });
  const cfg = await tempConfig({
    'all.yaml': [podYaml('pod-0', HOST, { app: 'sh' }), poolYaml('sh', { app: 'sh' }, pod.port), baseModelRouteYaml('sh', MODEL, [['sh', 1]])].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir);
  // What the gateway hands its client sockets, write by write (each one a socket write, or one writev when corked).
  const writes: string[] = [];
  gw.gateway.server.on('connection', (sock: Socket) => {
    type Entry = { chunk: Buffer | string };
    const s = sock as unknown as { _write(c: Buffer | string, e: string, cb: () => void): void; _writev(cs: Entry[], cb: () => void): void };
    const write = s._write.bind(sock);
    const writev = s._writev.bind(sock);
    s._write = (c, e, cb) => {
      writes.push(String(c));
      write(c, e, cb);
    };
    s._writev = (cs, cb) => {
      writes.push(cs.map((x) => String(x.chunk)).join(''));
      writev(cs, cb);
    };
  });
  const post = (): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const r = request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      r.on('error', reject);
      r.end(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }));
    });
  const text = async (res: IncomingMessage): Promise<string> => {
    let s = '';
    for await (const c of res) s += String(c);
    return s;
  };
  try {
    // Had the gateway held the headers back until the first chunk, this answer would never start.
    const res = await post();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    release();
    assert.match(await text(res), /"hello"[\s\S]*\[DONE\]/);

    together = true;
    writes.length = 0;
    const res2 = await post();
    assert.equal(res2.statusCode, 200);
    assert.match(await text(res2), /"all at once"[\s\S]*\[DONE\]/);
    // Headers flushed on their own would be a write of their own, the first token a second one behind them.
    assert.match(writes[0] ?? '', /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n[\s\S]*"all at once"/, `the headers and the first token in one write; writes: ${JSON.stringify(writes)}`);

  } finally {
    await gw.close();
    await pod.close();
    await cfg.remove();
  }
});
