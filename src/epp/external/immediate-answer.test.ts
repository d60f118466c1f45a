/** An EPP's immediate response as the client gets it: OpenAI-shaped bodies pass as sent, others are wrapped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { immediateAnswer } from './immediate-answer.js';

const WHO = 'the endpoint picker of InferencePool llm/gemma (Service llm/epp)';
const headersOf = (flat: string[]): Record<string, string> => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!]] : [])));

test('an OpenAI-shaped error (infergate extproc) passes unchanged, with its status and headers; the gateway sets length and request id', () => {
  const body = Buffer.from(JSON.stringify({ error: { message: 'no endpoint', type: 'server_error', param: null, code: 'no_healthy_endpoint' } }));
  const out = immediateAnswer({ kind: 'immediate', status: 503, headers: [['content-type', 'application/json'], ['retry-after', '1'], ['content-length', '1'], [':status', '503'], ['x-request-id', 'theirs']], body }, WHO, 'r1');
  assert.equal(out.status, 503);
  assert.ok(out.body.equals(body));
  assert.deepEqual(headersOf(out.headers), { 'retry-after': '1', 'content-type': 'application/json', 'content-length': String(body.length), 'x-request-id': 'r1' });
  assert.equal(out.errorCode, 'no_healthy_endpoint', "one of infergate's codes counts as itself");
  const foreign = immediateAnswer({ kind: 'immediate', status: 400, headers: [], body: Buffer.from('{"error":{"message":"m","code":"toString"}}') }, WHO, 'r1');
  assert.equal(foreign.errorCode, 'endpoint_picker_rejected');
});

test('a plain-text error (GIE, llm-d) is wrapped: the status kept, its type, code endpoint_picker_rejected, the text quoted', () => {
  const cases: [number, string, string][] = [
    [429, 'request evicted by flow control', 'rate_limit_error'],
    [400, 'model not found in request body', 'invalid_request_error'],
    [503, '', 'server_error'],
  ];
  for (const [status, text, type] of cases) {
    const out = immediateAnswer({ kind: 'immediate', status, headers: [['x-llm-d-request-dropped-reason', 'evicted'], ['content-type', 'text/plain']], body: Buffer.from(text) }, WHO, 'r2');
    assert.equal(out.status, status);
    const parsed = JSON.parse(out.body.toString()) as { error: Record<string, unknown> };
    assert.deepEqual(parsed.error, { message: `${WHO} refused the request with ${status}${text ? `: ${text}` : ''}`, type, param: null, code: 'endpoint_picker_rejected' });
    const h = headersOf(out.headers);
    assert.equal(h['content-type'], 'application/json');
    assert.equal(h['x-llm-d-request-dropped-reason'], 'evicted');
    assert.equal(h['content-length'], String(out.body.length));
    assert.equal(h['retry-after'], status === 400 ? undefined : '1', 'the advice of the gateway\'s own 429 and 503');
    assert.equal(out.errorCode, 'endpoint_picker_rejected');
  }
});

test('a success the picker answers itself passes as sent; a long text is cut in the message', () => {
  const ok = immediateAnswer({ kind: 'immediate', status: 200, headers: [['content-type', 'text/plain']], body: Buffer.from('cached') }, WHO, 'r3');
  assert.equal(ok.body.toString(), 'cached');
  assert.equal(headersOf(ok.headers)['content-type'], 'text/plain');
  assert.equal(ok.errorCode, undefined);
  const long = immediateAnswer({ kind: 'immediate', status: 500, headers: [], body: Buffer.from('x'.repeat(5000)) }, WHO, 'r4');
  assert.ok((JSON.parse(long.body.toString()) as { error: { message: string } }).error.message.endsWith('x...'));
  assert.ok(long.body.length < 1200);
});
