/**
 * Bytes that fail Node's parser after a request that arrived whole (more than its Content-Length, a malformed
 * request pipelined behind it, anything after `Connection: close`): the requests before them keep their answers.
 * A real server (createLimitedServer) on 127.0.16.1, a raw client socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { createLogger } from '../logger.js';
import type { RequestObserver, RequestRecord } from '../observability/request-record.js';
import { DEFAULT_CONNECTION_LIMITS, createLimitedServer } from './connection-limits.js';

const HOST = '127.0.16.1';
const records: RequestRecord[] = [];
const observer: RequestObserver = { ended: (r) => records.push(r) };
let server: Server;
let port = 0;

before(async () => {
  // Answers each request once its body is read, a little later, as a proxied answer comes: `/stream` in two parts.
  server = createLimitedServer(DEFAULT_CONNECTION_LIMITS, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\n\n');
        setTimeout(() => res.end('data: [DONE]\n\n'), 150);
        return;
      }
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url })), 50);
    });
  }, createLogger('silent'), undefined, observer);
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  port = (server.address() as { port: number }).port;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Writes `parts` in turn (a number waits that many ms) and returns everything read until the server closes. */
function exchange(parts: readonly (string | number)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port, localAddress: '127.0.16.9' }, () => {
      void (async () => {
        for (const p of parts) {
          if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
          else s.write(p);
        }
      })();
    });
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server did not close the connection; got ${JSON.stringify(text)}`));
    }, 5000);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

const post = (path: string, body: string, extra = ''): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
const statuses = (text: string): string[] => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]!);

test('a body longer than its Content-Length: the request gets its answer, then the 400 for the bytes after it', async () => {
  records.length = 0;
  const text = await exchange([post('/a', '{"model":"m"}') + 'EXTRA']);
  assert.deepEqual(statuses(text), ['200', '400']);
  assert.match(text, /\{"url":"\/a"\}/);
  const error = JSON.parse(text.slice(text.lastIndexOf('\r\n\r\n') + 4)) as { error: { code: string; type: string; message: string } };
  assert.equal(error.error.code, 'bad_request');
  assert.match(error.error.message, /HPE_INVALID_METHOD/);
  assert.deepEqual(
    records.map((r) => [r.method, r.path, r.errorCode]),
    [['', '', 'bad_request']],
    'the 400 is counted once, not as the request before it',
  );
});

test('requests pipelined before a malformed one are all answered, in order, before its 400', async () => {
  const text = await exchange([post('/a', '{}') + post('/b', '{}') + 'NOT HTTP\r\n\r\n']);
  assert.deepEqual(statuses(text), ['200', '200', '400']);
  assert.ok(text.indexOf('"/a"') < text.indexOf('"/b"'));
});

test('bytes after a request that says Connection: close are ignored (RFC 9112 §9.6): its answer, then the close', async () => {
  const text = await exchange([post('/a', '{}') + post('/b', '{}', 'Connection: close\r\n') + post('/c', '{}')]);
  assert.deepEqual(statuses(text), ['200', '200']);
  assert.match(text, /"\/b"/);
});

test('a malformed request sent while a stream is under way: the stream ends whole, then the 400', async () => {
  const text = await exchange([post('/stream', '{}'), 50, 'GARBAGE\r\n\r\n']);
  assert.deepEqual(statuses(text), ['200', '400']);
  assert.match(text, /data: \[DONE\]/);
});
