/**
 * Bytes that fail Node's parser after a request that arrived whole (more than its Content-Length, a malformed
 * request pipelined behind it, anything after `Connection: close`): the requests before them keep their answers.
 * A real server (createLimitedServer) on 127.0.16.1, a raw client socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestRecord } from '../observability/request-record.js';
import { readUntilClose, startLimitedTestServer, type LimitedTestServer } from './raw-socket-test-kit.js';

const HOST = '127.0.16.1';
const records: RequestRecord[] = [];
let srv: LimitedTestServer;

before(async () => {
  // Answers each request once its body is read, a little later, as a proxied answer comes: `/stream` in two parts.
  srv = await startLimitedTestServer(HOST, (req, res) => {
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
  }, records);
});

after(() => srv.close());

/** Writes `parts` in turn (a number waits that many ms) and returns everything read until the server closes. */
const exchange = (parts: readonly (string | number)[]): Promise<string> => readUntilClose(srv, '127.0.16.9', parts);

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
