/** sendAttempt's failures against a real server on loopback: the key they are counted under and what the server said. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { sendAttempt } from './send-attempt.js';

/** Loopback address of these tests (127.0.224.x and 127.0.225.x are the bench's error-path tests'). */
const HOST = '127.0.224.10';

/** Each path answers as one kind of failing server does. */
const ANSWERS: Record<string, { status: number; type: string; body: string }> = {
  '/openai': { status: 404, type: 'application/json', body: '{"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":"model","code":404}}' },
  // vLLM's --api-key middleware answers a plain string.
  '/vllm-auth': { status: 401, type: 'application/json', body: '{"error":"Unauthorized"}' },
  '/proxy': { status: 502, type: 'text/html', body: `<html><body>502 Bad Gateway ${'x'.repeat(1000)}</body></html>` },
  // A 200 that is neither an event stream nor JSON: a sign-in page, a health check's text.
  '/not-json': { status: 200, type: 'text/plain; charset=utf-8', body: 'OK\n' },
  '/stream': {
    status: 200,
    type: 'text/event-stream',
    body: 'data: {"error":{"message":"engine died","type":"InternalServerError","param":null,"code":500}}\n\ndata: [DONE]\n\n',
  },
};

test('failures keep the server message beside their key: OpenAI error bodies, vLLM strings, HTML pages, mid-stream errors, a 200 that is not JSON', async (t) => {
  const server = createServer((req, res) => {
    req.resume();
    const answer = ANSWERS[req.url ?? ''] ?? { status: 500, type: 'text/plain', body: '' };
    res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const pool = new Pool(`http://${HOST}:${(server.address() as AddressInfo).port}`);
  t.after(async () => {
    await pool.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const signal = new AbortController().signal;
  const attempt = async (path: string): Promise<[string, string]> => {
    const o = await sendAttempt(pool, path, '{}', signal);
    assert.equal(o.ok, false, path);
    return [o.error, o.errorMessage];
  };

  assert.deepEqual(await attempt('/openai'), ['HTTP 404 NotFoundError', 'The model `x` does not exist.']);
  assert.deepEqual(await attempt('/vllm-auth'), ['HTTP 401', 'Unauthorized']);
  const [key, page] = await attempt('/proxy');
  assert.equal(key, 'HTTP 502');
  assert.ok(page.startsWith('<html><body>502 Bad Gateway') && page.length === 300, 'the start of the page, cut short');
  assert.deepEqual(await attempt('/stream'), ['stream error 500', 'engine died']);
  assert.deepEqual(await attempt('/not-json'), ['invalid JSON response', 'text/plain; charset=utf-8: OK']);
});
