import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import type { RequestObserver, RequestRecord } from '../observability/request-record.js';
import { observeEarlyAnswer } from './client-errors.js';

test("an early answer to a request whose headers were read keeps the client's trace context in its record", () => {
  const seen: RequestRecord[] = [];
  const observer: RequestObserver = { ended: (r) => seen.push(r) };
  const err = new GatewayError('too_many_connections', 'over the limit');
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  observeEarlyAnswer(observer, err, 'id-1', { method: 'POST', path: '/v1/chat/completions' }, '127.0.0.9', { traceparent, tracestate: 'acme=1' });
  observeEarlyAnswer(observer, err, 'id-2', { method: '', path: '' }, undefined);
  assert.equal(seen.length, 2);
  assert.deepEqual([seen[0]!.requestId, seen[0]!.traceparent, seen[0]!.tracestate, seen[0]!.errorCode, seen[0]!.status], ['id-1', traceparent, 'acme=1', 'too_many_connections', 503]);
  assert.equal(seen[1]!.traceparent, undefined, 'no headers read (a malformed request): no trace context');
});
