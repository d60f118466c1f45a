import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HeaderAppendAction, ProcessingResponse } from '../../envoy/processing-messages.js';
import { applyResponseChanges, readResponseAnswer, type ResponseChanges } from './response-changes.js';
import { PickerUnavailable } from './picker-unavailable.js';

const set = (key: string, value: string, append_action?: HeaderAppendAction) => ({ header: { key, raw_value: Buffer.from(value) }, ...(append_action ? { append_action } : {}) });

function headers(r: ProcessingResponse): Extract<ResponseChanges, { kind: 'headers' }> {
  const c = readResponseAnswer(r);
  assert.equal(c?.kind, 'headers');
  return c as Extract<ResponseChanges, { kind: 'headers' }>;
}

test('reads the header mutation of an answer to the response headers, names lower-cased, raw_value or value', () => {
  const c = headers({
    response: 'response_headers',
    response_headers: { response: { header_mutation: { set_headers: [set('X-Session-Token', 'abc', 'OVERWRITE_IF_EXISTS_OR_ADD'), { header: { key: 'x-old', value: 'v' } }, { header: { key: 'x-appended', value: 'w' }, append: { value: true } }], remove_headers: ['X-Inference-Pod'] } } },
  });
  assert.deepEqual(c.set, [
    { name: 'x-session-token', value: 'abc', action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    { name: 'x-old', value: 'v', action: undefined },
    // The deprecated `append`, as Envoy's ext_proc still reads it.
    { name: 'x-appended', value: 'w', action: 'APPEND_IF_EXISTS_OR_ADD' },
  ]);
  assert.deepEqual(c.remove, ['x-inference-pod']);
  // A plain CONTINUE: nothing to change.
  assert.deepEqual(headers({ response: 'response_headers', response_headers: {} }), { kind: 'headers', set: [], remove: [] });
});

test('an immediate response replaces the answer; late request-phase answers are skipped; a response-body answer first is outside the protocol', () => {
  const c = readResponseAnswer({ immediate_response: { status: { code: 'ServiceUnavailable' }, body: Buffer.from('gone') } });
  assert.equal(c?.kind, 'immediate');
  assert.equal((c as { status: number }).status, 503);
  assert.equal(readResponseAnswer({ response: 'request_trailers', request_trailers: {} }), undefined);
  assert.equal(readResponseAnswer({ response: 'request_body', request_body: {} }), undefined);
  assert.throws(() => readResponseAnswer({ response: 'response_body', response_body: {} }), (e: unknown) => e instanceof PickerUnavailable && /answered response_body where the answer to the response headers was expected/.test(e.message));
  assert.throws(() => readResponseAnswer({}), /with an empty ProcessingResponse/);
});

test("applies Envoy's append actions to the client's headers", () => {
  const upstream = (): string[] => ['content-type', 'application/json', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-inference-pod', 'pod-1'];
  const apply = (name: string, value: string, action?: HeaderAppendAction): string[] => {
    const list = upstream();
    applyResponseChanges(list, { kind: 'headers', set: [{ name, value, action }], remove: [] }, 200);
    return list;
  };
  // Unset, Envoy's ext_proc replaces (GIE's lightweight EPP echoes every header so: no duplicates).
  assert.deepEqual(apply('set-cookie', 'c=3').filter((_, i, l) => l[i - 1] === 'set-cookie'), ['c=3']);
  assert.deepEqual(apply('content-type', 'application/json').filter((_, i, l) => l[i - 1] === 'content-type'), ['application/json']);
  assert.deepEqual(apply('set-cookie', 'c=3', 'APPEND_IF_EXISTS_OR_ADD').filter((_, i, l) => l[i - 1] === 'set-cookie'), ['a=1', 'b=2', 'c=3']);
  assert.deepEqual(apply('set-cookie', 'c=3', 'OVERWRITE_IF_EXISTS_OR_ADD').filter((_, i, l) => l[i - 1] === 'set-cookie'), ['c=3']);
  assert.deepEqual(apply('set-cookie', 'c=3', 'ADD_IF_ABSENT').filter((_, i, l) => l[i - 1] === 'set-cookie'), ['a=1', 'b=2']);
  assert.deepEqual(apply('x-new', '1', 'ADD_IF_ABSENT').slice(-2), ['x-new', '1']);
  assert.deepEqual(apply('x-new', '1', 'OVERWRITE_IF_EXISTS'), upstream(), 'only if it exists');
  assert.deepEqual(apply('x-inference-pod', 'pod-2', 'OVERWRITE_IF_EXISTS').slice(-2), ['x-inference-pod', 'pod-2']);
  // Removals first, then sets, in the picker's order.
  const list = upstream();
  const out = applyResponseChanges(list, { kind: 'headers', set: [{ name: 'x-inference-pod', value: 'again', action: 'ADD_IF_ABSENT' }], remove: ['set-cookie', 'x-inference-pod'] }, 200);
  assert.deepEqual(list, ['content-type', 'application/json', 'x-inference-pod', 'again']);
  assert.deepEqual(out, { status: 200, skipped: [] });
});

test("the gateway's own headers sent back unchanged (GIE's lightweight EPP returns every header) are no-ops, not refusals", () => {
  const list = ['content-type', 'application/json', 'content-length', '10', 'x-request-id', 'req-1'];
  const echo = (name: string, value: string) => ({ name, value, action: undefined });
  const out = applyResponseChanges(list, { kind: 'headers', set: [echo(':status', '200'), echo('content-type', 'application/json'), echo('content-length', '10'), echo('x-request-id', 'req-1'), echo('x-went-into-resp-headers', 'true')], remove: [] }, 200);
  assert.deepEqual(out, { status: 200, skipped: [] });
  assert.deepEqual(list, ['content-type', 'application/json', 'content-length', '10', 'x-request-id', 'req-1', 'x-went-into-resp-headers', 'true']);
  // Another value is still a change the gateway keeps to itself.
  assert.deepEqual(applyResponseChanges(list, { kind: 'headers', set: [echo('content-length', '11')], remove: [] }, 200).skipped, ['content-length']);
});

test("a picker may set the status but not the body's framing, the request id, other pseudo-headers or values Node cannot write", () => {
  const list = ['content-type', 'text/event-stream', 'content-length', '10', 'x-request-id', 'req-1'];
  const out = applyResponseChanges(
    list,
    {
      kind: 'headers',
      set: [
        { name: ':status', value: '203', action: undefined },
        { name: 'content-length', value: '1', action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        { name: 'x-request-id', value: 'forged', action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        { name: ':path', value: '/x', action: undefined },
        { name: 'x-bad', value: 'a\r\nb', action: undefined },
        { name: 'bad name', value: 'v', action: undefined },
        { name: 'x-kept', value: 'yes', action: undefined },
      ],
      remove: ['transfer-encoding', ':status'],
    },
    200,
  );
  assert.equal(out.status, 203);
  assert.deepEqual(out.skipped, ['transfer-encoding', ':status', 'content-length', 'x-request-id', ':path', 'x-bad', 'bad name']);
  assert.deepEqual(list, ['content-type', 'text/event-stream', 'content-length', '10', 'x-request-id', 'req-1', 'x-kept', 'yes']);
  for (const bad of ['99', '600', 'abc', '2000', '204', '304']) {
    const r = applyResponseChanges([], { kind: 'headers', set: [{ name: ':status', value: bad, action: undefined }], remove: [] }, 200);
    assert.deepEqual(r, { status: 200, skipped: [`:status ${JSON.stringify(bad)}`] }, bad);
  }
});
