/**
 * A client speaking HTTP/2 with prior knowledge to the (HTTP/1.1) traffic port: it is told in HTTP/2, by a
 * GOAWAY with HTTP_1_1_REQUIRED and the reason, not sent HTTP/1.1 bytes it cannot frame. A real server
 * (createLimitedServer) on 127.0.16.4, Node's HTTP/2 client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import type { Server } from 'node:http';
import { createLogger } from '../logger.js';
import type { RequestObserver, RequestRecord } from '../observability/request-record.js';
import { DEFAULT_CONNECTION_LIMITS, createLimitedServer } from './connection-limits.js';
import { H2_NOT_SERVED } from './h2-refusal.js';

const HOST = '127.0.16.4';
const records: RequestRecord[] = [];
const observer: RequestObserver = { ended: (r) => records.push(r) };
let server: Server;
let origin = '';

before(async () => {
  server = createLimitedServer(DEFAULT_CONNECTION_LIMITS, (_req, res) => res.writeHead(200, { 'content-length': 2 }).end('ok'), createLogger('silent'), undefined, observer);
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  origin = `http://${HOST}:${(server.address() as { port: number }).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('an h2c client gets GOAWAY HTTP_1_1_REQUIRED saying to send HTTP/1.1, counted as a 400 bad_request', async () => {
  records.length = 0;
  const goaway = await new Promise<{ code: number; data: string }>((resolve, reject) => {
    const session = connect(origin);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error('no GOAWAY within 5 s'));
    }, 5000);
    session.on('error', () => undefined);
    session.on('goaway', (code: number, _last: number, data?: Buffer) => {
      clearTimeout(timer);
      resolve({ code, data: data?.toString('latin1') ?? '' });
    });
    session.on('close', () => {
      clearTimeout(timer);
      reject(new Error('the connection closed without a GOAWAY'));
    });
    const stream = session.request({ ':path': '/v1/models' });
    stream.on('error', () => undefined);
    stream.end();
  });
  assert.deepEqual(goaway, { code: 0x0d, data: H2_NOT_SERVED });
  assert.deepEqual(records.map((r) => [r.method, r.status, r.errorCode]), [['PRI', 400, 'bad_request']]);
  const res = await fetch(`${origin}/v1/models`);
  assert.equal(await res.text(), 'ok', 'HTTP/1.1 is served as before');
});
