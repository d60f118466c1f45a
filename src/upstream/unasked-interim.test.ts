/**
 * An endpoint answering 100 Continue (or 101) to a request that did not ask for it: undici refuses it, and the
 * failure is the endpoint's answer (not retried elsewhere, not a broken connection), named in words. A raw
 * node:net server on 127.0.18.30 answers as such an endpoint does, to undici itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Pool } from 'undici';
import { unaskedInterim, unaskedInterimStatus } from './unasked-interim.js';
import { failureKind, isConnectionFailure, isRetryable } from './upstream-failure.js';

const HOST = '127.0.18.30';
const ANSWERS: Record<string, string> = {
  '/continue': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
  '/upgrade': 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
  '/closed': '',
};
let server: Server;
let origin = '';

before(async () => {
  server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.once('data', (d: Buffer) => {
      const path = d.toString('latin1').split(' ', 2)[1] ?? '';
      const answer = ANSWERS[path] ?? '';
      if (answer === '') sock.destroy();
      else sock.write(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  origin = `http://${HOST}:${(server.address() as { port: number }).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The error undici gives for a POST to `path`. */
async function failure(path: string): Promise<unknown> {
  const pool = new Pool(origin);
  try {
    const res = await pool.request({ method: 'POST', path, body: '{}', headers: { 'content-type': 'application/json' } });
    await res.body.text();
    return undefined;
  } catch (e) {
    return e;
  } finally {
    await pool.destroy();
  }
}

test('100 Continue unasked: the endpoint answered, so no failover and no connection failure, and the message says what it sent', async () => {
  const e = await failure('/continue');
  assert.ok(e, 'undici refuses it');
  assert.equal(unaskedInterimStatus(e), '100 Continue');
  assert.equal(failureKind(e), 'other');
  assert.equal(isRetryable(failureKind(e)), false);
  assert.equal(isConnectionFailure(failureKind(e)), false);
  assert.match(unaskedInterim(e) ?? '', /answered 100 Continue to a request that sent no Expect: 100-continue/);
});

test('101 Switching Protocols unasked: the same, naming the upgrade', async () => {
  const e = await failure('/upgrade');
  assert.equal(failureKind(e), 'other');
  assert.match(unaskedInterim(e) ?? '', /answered 101 Switching Protocols to a request that sent no Upgrade/);
});

test('a connection closed unanswered is still a reset, and not named as an interim answer', async () => {
  const e = await failure('/closed');
  assert.equal(failureKind(e), 'reset');
  assert.equal(unaskedInterim(e), undefined);
});
