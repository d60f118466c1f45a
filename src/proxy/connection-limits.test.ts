/** The connection limits' defaults, and the OpenAI errors that stand in for Node's early rejections. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultMaxConnections } from './connection-limits.js';
import { gatewayErrorOf, rawResponse, requestLine } from './client-errors.js';

describe('defaultMaxConnections', () => {
  const limits = (soft: string): string => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 1048576              files\n`;
  const cases: [string, string, number][] = [
    ['the common 1024', limits('1024'), 384],
    ['20000', limits('20000'), 9872],
    ['a million: capped', limits('1048576'), 10_000],
    ['unlimited: capped', limits('unlimited'), 10_000],
    ['tiny: at least 64', limits('200'), 64],
    ['unreadable (not Linux): capped', '', 10_000],
  ];
  for (const [name, text, want] of cases) test(name, () => assert.equal(defaultMaxConnections(text), want));
});

describe("Node's client errors as gateway errors", () => {
  const t = { requestHeadersTimeoutMs: 30_000, requestBodyTimeoutMs: 60_000 };
  const cases: [string, { code?: string; reason?: string }, boolean, number, string, RegExp][] = [
    ['headers too large', { code: 'HPE_HEADER_OVERFLOW' }, false, 431, 'request_header_too_large', /request headers are larger than the gateway accepts .*send fewer or smaller headers, or a shorter URL/],
    ['chunk extensions too large', { code: 'HPE_CHUNK_EXTENSIONS_OVERFLOW' }, false, 413, 'request_too_large', /chunk extensions/],
    ['headers too slow', { code: 'ERR_HTTP_REQUEST_TIMEOUT' }, false, 408, 'request_timeout', /headers did not arrive within 30s \(--request-headers-timeout\)/],
    ['body too slow', { code: 'ERR_HTTP_REQUEST_TIMEOUT' }, true, 408, 'request_timeout', /body did not arrive within 1m .*\(--request-body-timeout\)/],
    ['a parse error', { code: 'HPE_INVALID_METHOD', reason: 'Invalid method encountered' }, false, 400, 'bad_request', /malformed HTTP\/1.1 request: Invalid method encountered \(HPE_INVALID_METHOD\)/],
  ];
  for (const [name, err, started, status, code, message] of cases) {
    test(name, () => {
      const e = gatewayErrorOf(Object.assign(new Error('x'), err), started, t);
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      assert.match(e.message, message);
    });
  }

  const lines: [name: string, raw: string | undefined, method: string, path: string][] = [
    ['a request line', 'POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: x\r\n', 'POST', '/v1/chat/completions'],
    ['no packet (a timeout)', undefined, '', ''],
    ['a request line cut short', 'POST /v1/chat/comp', '', ''],
    ['garbage', '\x16\x03\x01\x02\x00', '', ''],
    // Raw bytes Node's parser refuses in a path: UTF-8 as the client meant it, an invalid byte as U+FFFD.
    ['a path of raw UTF-8', 'GET /v1/models/caf\xc3\xa9 HTTP/1.1\r\n', 'GET', '/v1/models/caf\u00e9'],
    ['a path with a byte that is no UTF-8', 'GET /v1/\xff HTTP/1.1\r\n', 'GET', '/v1/\ufffd'],
  ];
  for (const [name, raw, method, path] of lines) {
    test(`request line of ${name}`, () => assert.deepEqual(requestLine(raw === undefined ? undefined : Buffer.from(raw, 'latin1')), { method, path }));
  }

  test('the raw response is a whole HTTP/1.1 answer with its request id that closes the connection', () => {
    const raw = rawResponse(gatewayErrorOf(Object.assign(new Error('x'), { code: 'HPE_HEADER_OVERFLOW' }), false, t), 'id-1');
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    assert.match(head, /^HTTP\/1.1 431 Request Header Fields Too Large\r\n/);
    assert.match(head, /\r\nconnection: close/);
    assert.match(head, /\r\nx-request-id: id-1\r\n/);
    assert.equal(Number(/content-length: (\d+)/.exec(head)?.[1]), Buffer.byteLength(body));
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'request_header_too_large');
  });
});
