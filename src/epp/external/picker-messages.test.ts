/** The messages an external EPP gets: Envoy's request line as pseudo-headers, the hint, the body in chunks, the served endpoint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readHeaderMap } from '../../envoy/header-map.js';
import { fromStruct } from '../../envoy/struct-value.js';
import { STREAMED_CHUNK_BYTES } from '../../envoy/streamed-body.js';
import { requestMessages, responseHeadersMessage, type PickerRequest } from './picker-messages.js';

const base: PickerRequest = {
  method: 'POST',
  path: '/v1/completions?x=1',
  authority: 'gw.example.com',
  headers: { 'content-type': 'application/json', 'content-length': '999', 'x-request-id': 'r1', 'x-multi': ['a', 'b'] },
  body: Buffer.from('{"model":"m"}'),
  subset: ['10.0.0.2:8000', '10.0.0.3:8000'],
};
const HINT = { 'envoy.lb.subset_hint': { 'x-gateway-destination-endpoint-subset': ['10.0.0.2:8000', '10.0.0.3:8000'] } };

test('a small body: headers (request line, hint, protocol_config, its own content-length), then one body message with end_of_stream and the hint', () => {
  const [headers, body, ...rest] = requestMessages(base);
  assert.equal(rest.length, 0);
  const h = readHeaderMap(headers!.request_headers!.headers);
  assert.equal(h.get(':method'), 'POST');
  assert.equal(h.get(':path'), '/v1/completions?x=1');
  assert.equal(h.get(':authority'), 'gw.example.com');
  assert.equal(h.get(':scheme'), 'http');
  assert.equal(h.get('content-length'), '13', 'the length of the body sent, not the one the client declared');
  assert.equal(h.get('x-multi'), 'a, b');
  assert.equal(headers!.request_headers!.end_of_stream, undefined);
  assert.deepEqual(headers!.protocol_config, { request_body_mode: 'FULL_DUPLEX_STREAMED', response_body_mode: 'NONE' });
  assert.deepEqual(Object.fromEntries(Object.entries(headers!.metadata_context!.filter_metadata!).map(([ns, s]) => [ns, fromStruct(s)])), HINT);
  assert.deepEqual(body!.request_body, { body: Buffer.from('{"model":"m"}'), end_of_stream: true });
  assert.deepEqual(fromStruct(body!.metadata_context!.filter_metadata!['envoy.lb.subset_hint']), HINT['envoy.lb.subset_hint']);
});

test('a large body goes in 62,000-byte chunks, end_of_stream on the last only; no body: headers with end_of_stream', () => {
  const big = Buffer.alloc(STREAMED_CHUNK_BYTES * 2 + 5, 0x61);
  const msgs = requestMessages({ ...base, body: big });
  assert.deepEqual(msgs.slice(1).map((m) => [m.request_body!.body!.length, m.request_body!.end_of_stream === true, m.metadata_context !== undefined]), [
    [STREAMED_CHUNK_BYTES, false, false],
    [STREAMED_CHUNK_BYTES, false, false],
    [5, true, true],
  ]);
  assert.ok(Buffer.concat(msgs.slice(1).map((m) => m.request_body!.body!)).equals(big));
  const get = requestMessages({ ...base, method: 'GET', body: undefined, authority: undefined });
  assert.equal(get.length, 1);
  assert.equal(get[0]!.request_headers!.end_of_stream, true);
  const h = readHeaderMap(get[0]!.request_headers!.headers);
  assert.equal(h.has(':authority'), false);
  assert.equal(h.has('content-length'), false);
});

test('response headers: :status, the upstream headers, and the served endpoint in envoy.lb', () => {
  const m = responseHeadersMessage(200, [Buffer.from('Content-Type'), Buffer.from('text/event-stream')], '10.0.0.3:8000');
  const h = readHeaderMap(m.response_headers!.headers);
  assert.equal(h.get(':status'), '200');
  assert.equal(h.get('content-type'), 'text/event-stream');
  assert.equal(m.response_headers!.end_of_stream, undefined);
  assert.deepEqual(fromStruct(m.metadata_context!.filter_metadata!['envoy.lb']), { 'x-gateway-destination-endpoint-served': '10.0.0.3:8000' });
});

test('response headers: hop-by-hop ones are not sent, as Envoy drops them before its filters', () => {
  const raw = ['Content-Type', 'application/json', 'Content-Length', '12', 'Connection', 'keep-alive, X-Hop', 'Keep-Alive', 'timeout=5', 'X-Hop', '1', 'Transfer-Encoding', 'chunked', 'X-Kept', 'yes'].map((s) => Buffer.from(s));
  const h = readHeaderMap(responseHeadersMessage(200, raw, '10.0.0.3:8000').response_headers!.headers);
  assert.deepEqual([...h.keys()], [':status', 'content-type', 'content-length', 'x-kept']);
});
