import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protocolMismatch } from './protocol-mismatch.js';
import { failureKind, isRetryable } from './upstream-failure.js';

/** undici's HTTPParserError keeps the unparsed bytes as a string in `data`. */
const parserError = (bytes: number[]): Error => Object.assign(new Error('Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)'), { name: 'HTTPParserError', data: Buffer.from(bytes).toString() });
const SETTINGS = [0, 0, 0x12, 0x04, 0, 0, 0, 0, 0, 0, 0x03];
const GOAWAY = [0, 0, 0x08, 0x07, 0, 0, 0, 0, 0];
const DATA_ON_STREAM_1 = [0, 0, 0x08, 0x00, 0, 0, 0, 0, 1];

test('protocolMismatch names the protocol for the two mismatches and nothing else', () => {
  const cases: { name: string; err: unknown; h2c: boolean; want: RegExp | undefined }[] = [
    { name: 'HTTP/1.1 sent, a SETTINGS frame back', err: parserError(SETTINGS), h2c: false, want: /answers in HTTP\/2 \(cleartext, h2c\) only.*set spec\.appProtocol: kubernetes\.io\/h2c/ },
    { name: 'HTTP/1.1 sent, a GOAWAY frame back', err: parserError(GOAWAY), h2c: false, want: /answers in HTTP\/2/ },
    { name: 'HTTP/1.1 sent, garbage that is no connection-level frame', err: parserError(DATA_ON_STREAM_1), h2c: false, want: undefined },
    { name: 'HTTP/1.1 sent, text that is not HTTP', err: parserError([...Buffer.from('SSH-2.0-OpenSSH')]), h2c: false, want: undefined },
    { name: 'h2c sent, an HTTP/1.1 400 back (nghttp2 protocol error)', err: Object.assign(new Error('Protocol error'), { code: 'ERR_HTTP2_ERROR' }), h2c: true, want: /does not speak HTTP\/2.*ERR_HTTP2_ERROR: Protocol error.*remove spec\.appProtocol/ },
    { name: 'h2c sent, connection refused', err: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), h2c: true, want: undefined },
    { name: 'HTTP/1.1 sent, an h2c protocol error cannot happen', err: Object.assign(new Error('Protocol error'), { code: 'ERR_HTTP2_ERROR' }), h2c: false, want: undefined },
    { name: 'nothing', err: null, h2c: true, want: undefined },
  ];
  for (const c of cases) {
    const got = protocolMismatch(c.err, c.h2c);
    if (c.want === undefined) assert.equal(got, undefined, c.name);
    else assert.match(got ?? '', c.want, c.name);
  }
});

test('HTTP/2 stream and session failures fail over like a reset HTTP/1.1 connection; a protocol error does not', () => {
  const kind = (code: string): string => failureKind(Object.assign(new Error(code), { code }));
  for (const code of ['ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'UND_ERR_INFO']) {
    assert.equal(kind(code), 'reset', code);
  }
  assert.equal(kind('ERR_HTTP2_ERROR'), 'other');
  assert.equal(isRetryable('other'), false);
});
