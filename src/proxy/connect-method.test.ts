/**
 * CONNECT (a client using the gateway as its HTTPS proxy): a 405 in OpenAI's shape with `Allow`, counted, where
 * Node closed the connection unanswered; the server goes on serving. A real server (createLimitedServer) on
 * 127.0.16.3, a raw client socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestRecord } from '../observability/request-record.js';
import { readUntilClose, startLimitedTestServer, type LimitedTestServer } from './raw-socket-test-kit.js';
import { ROUTED_METHODS } from './connect-method.js';

const HOST = '127.0.16.3';
const records: RequestRecord[] = [];
let srv: LimitedTestServer;

before(async () => {
  srv = await startLimitedTestServer(HOST, (_req, res) => res.writeHead(200, { 'content-length': 2 }).end('ok'), records);
});

after(() => srv.close());

/** Writes `raw` and returns everything read until the server closes the connection. */
const exchange = (raw: string): Promise<string> => readUntilClose(srv, '127.0.16.9', [raw]);

test('CONNECT gets 405 method_not_allowed in OpenAI shape, with Allow and its request id, and is counted', async () => {
  records.length = 0;
  const text = await exchange('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nx-request-id: tunnel-1\r\n\r\n');
  const [head, body] = text.split('\r\n\r\n') as [string, string];
  assert.match(head, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
  assert.match(head, new RegExp(`\\r\\nallow: ${ROUTED_METHODS}\\r\\n`));
  assert.match(head, /\r\nx-should-retry: false\r\n/);
  assert.match(head, /\r\nx-request-id: tunnel-1\r\n/);
  const err = JSON.parse(body) as { error: { message: string; type: string; param: null; code: string } };
  assert.deepEqual(Object.keys(err.error), ['message', 'type', 'param', 'code']);
  assert.equal(err.error.code, 'method_not_allowed');
  assert.match(err.error.message, /^CONNECT api\.openai\.com:443 is not served: the gateway is no forward proxy/);
  assert.deepEqual(records.map((r) => [r.method, r.status, r.errorCode, r.requestId]), [['CONNECT', 405, 'method_not_allowed', 'tunnel-1']]);
  assert.match(await exchange('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /, 'the server goes on serving');
});
