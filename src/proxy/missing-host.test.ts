/**
 * An HTTP/1.1 request without Host (RFC 9112 §3.2): a 400 in OpenAI's shape with a request id, counted, on a
 * connection that goes on serving, where Node's own was a bare 400 that closed it. A real server
 * (createLimitedServer) on 127.0.16.2, a raw client socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { RequestRecord } from '../observability/request-record.js';
import { startLimitedTestServer, type LimitedTestServer } from './raw-socket-test-kit.js';

const HOST = '127.0.16.2';
const records: RequestRecord[] = [];
let srv: LimitedTestServer;

before(async () => {
  srv = await startLimitedTestServer(HOST, (req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ host: req.headers.host ?? null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  }, records);
});

after(() => srv.close());

/** Writes `raw` and reads until `answers` whole answers (each with a Content-Length) came, or the server closed. */
function exchange(raw: string, answers: number): Promise<{ heads: string[]; bodies: string[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port: srv.port, localAddress: '127.0.16.9' }, () => s.write(raw));
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no ${answers} answer(s); got ${JSON.stringify(text)}`));
    }, 5000);
    const parse = (closed: boolean): void => {
      const heads: string[] = [];
      const bodies: string[] = [];
      let rest = text;
      // Bounded: a test reads a few answers.
      for (let i = 0; i < answers; i++) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = rest.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (rest.length < end + 4 + length) break;
        heads.push(head);
        bodies.push(rest.slice(end + 4, end + 4 + length));
        rest = rest.slice(end + 4 + length);
      }
      if (heads.length === answers || closed) {
        clearTimeout(timer);
        s.destroy();
        resolve({ heads, bodies, closed });
      }
    };
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      parse(false);
    });
    s.on('error', () => undefined);
    s.on('close', () => parse(true));
  });
}

test('an HTTP/1.1 request without Host gets 400 bad_request in OpenAI shape with an id, and the connection serves the next one', async () => {
  records.length = 0;
  const r = await exchange('POST /v1/chat/completions HTTP/1.1\r\nx-request-id: no-host-1\r\nContent-Length: 2\r\n\r\n{}GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n', 2);
  assert.equal(r.heads.length, 2, 'both requests are answered on the one connection');
  assert.match(r.heads[0]!, /^HTTP\/1\.1 400 /);
  assert.match(r.heads[0]!, /\r\nx-request-id: no-host-1\r\n/i);
  const err = JSON.parse(r.bodies[0]!) as { error: { message: string; type: string; param: null; code: string } };
  assert.deepEqual(Object.keys(err.error), ['message', 'type', 'param', 'code']);
  assert.equal(err.error.code, 'bad_request');
  assert.equal(err.error.type, 'invalid_request_error');
  assert.match(err.error.message, /without a Host header; send Host/);
  assert.match(r.heads[1]!, /^HTTP\/1\.1 200 /);
  assert.equal(r.bodies[1], '{"host":"gw"}');
  assert.deepEqual(records.map((x) => [x.method, x.path, x.status, x.errorCode]), [['POST', '/v1/chat/completions', 400, 'bad_request']]);
});

test('HTTP/1.0 needs no Host: the request is served', async () => {
  const r = await exchange('GET /v1/models HTTP/1.0\r\n\r\n', 1);
  assert.match(r.heads[0]!, /^HTTP\/1\.1 200 /);
  assert.equal(r.bodies[0], '{"host":null}');
});
