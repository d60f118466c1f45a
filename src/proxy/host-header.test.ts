/**
 * A Host whose value is no host gets 400 bad_request in OpenAI's shape before the handler sees the request
 * (RFC 9112 §3.2), instead of going upstream as the pod's Host. A table of values, then a real server
 * (createLimitedServer) on 127.0.158.5 and a raw client socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { RequestRecord } from '../observability/request-record.js';
import { invalidHost } from './host-header.js';
import { startLimitedTestServer, type LimitedTestServer } from './raw-socket-test-kit.js';

const cases: [host: string, valid: boolean][] = [
  ['example.com', true],
  ['gateway.llm-d.svc.cluster.local:8080', true],
  ['127.0.0.1:80', true],
  ['[::1]:8080', true],
  ['[fe80::1%25eth0]', true],
  ['', true],
  ['x:', true],
  ['a b', false],
  ['a b:c', false],
  ['x/y', false],
  ['user@example.com', false],
  ['example.com:80x', false],
  ['[::1', false],
  ['ex"ample', false],
];
for (const [host, valid] of cases) {
  test(`Host: ${JSON.stringify(host)} is ${valid ? 'taken' : 'refused'}`, () => {
    const err = invalidHost(host);
    if (valid) assert.equal(err, undefined);
    else {
      assert.equal(err?.code, 'bad_request');
      assert.equal(err.status, 400);
      assert.match(err.message, /is not a host name, address or \[IPv6 address\] with an optional :port; send Host with the name the gateway is reached by/);
    }
  });
}

const HOST = '127.0.158.5';
const records: RequestRecord[] = [];
let srv: LimitedTestServer;
let handled = 0;

before(async () => {
  srv = await startLimitedTestServer(HOST, (req, res) => {
    handled++;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' }).end('{}'));
  }, records);
});

after(() => srv.close());

/** Writes `raw` and reads until two answers (each with a Content-Length) came, within 5 s. */
function twoAnswers(raw: string): Promise<{ heads: string[]; bodies: string[] }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port: srv.port, localAddress: '127.0.158.9' }, () => s.write(raw));
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no two answers; got ${JSON.stringify(text)}`));
    }, 5000);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const heads: string[] = [];
      const bodies: string[] = [];
      let rest = text;
      // Bounded: two answers.
      for (let i = 0; i < 2; i++) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = rest.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (rest.length < end + 4 + length) return;
        heads.push(head);
        bodies.push(Buffer.from(rest.slice(end + 4, end + 4 + length), 'latin1').toString('utf8'));
        rest = rest.slice(end + 4 + length);
      }
      clearTimeout(timer);
      s.destroy();
      resolve({ heads, bodies });
    });
  });
}

test('a request whose Host is no host gets 400 bad_request with an id, counted, unseen by the handler; the connection serves the next one', async () => {
  records.length = 0;
  handled = 0;
  const r = await twoAnswers('POST /v1/chat/completions HTTP/1.1\r\nHost: a b:c\r\nx-request-id: bad-host-1\r\nContent-Length: 2\r\n\r\n{}GET /v1/models HTTP/1.1\r\nHost: gw:8080\r\n\r\n');
  assert.match(r.heads[0]!, /^HTTP\/1\.1 400 /);
  assert.match(r.heads[0]!, /\r\nx-request-id: bad-host-1\r\n/i);
  const err = (JSON.parse(r.bodies[0]!) as { error: Record<string, unknown> }).error;
  assert.deepEqual(Object.keys(err), ['message', 'type', 'param', 'code']);
  assert.equal(err.code, 'bad_request');
  assert.equal(err.message, 'Host: a b:c is not a host name, address or [IPv6 address] with an optional :port; send Host with the name the gateway is reached by (RFC 9112 §3.2)');
  assert.match(r.heads[1]!, /^HTTP\/1\.1 200 /);
  assert.equal(handled, 1, 'only the request with a valid Host reached the handler');
  assert.deepEqual(records.map((x) => [x.method, x.path, x.status, x.errorCode]), [['POST', '/v1/chat/completions', 400, 'bad_request']]);
});
