/** AnswerCollector: every way an EPP may answer one request, into one decision (or a failure for the failureMode). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessingResponse } from '../../envoy/processing-messages.js';
import { toStruct } from '../../envoy/struct-value.js';
import { AnswerCollector, httpStatus, type PickerAnswer } from './picker-answer.js';
import { PickerUnavailable } from './picker-unavailable.js';

const set = (key: string, value: string) => ({ header: { key, raw_value: Buffer.from(value) } });
const lb = (endpoints: string) => toStruct({ 'envoy.lb': { 'x-gateway-destination-endpoint': endpoints } });
/** A headers answer as GIE's and llm-d's EPPs send it: the pick in the header and in envoy.lb. */
const headersAnswer = (endpoints: string, extra: { key: string; value: string }[] = []): ProcessingResponse => ({
  response: 'request_headers',
  request_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint', endpoints), ...extra.map((h) => set(h.key, h.value))] } } },
  dynamic_metadata: lb(endpoints),
});
const streamed = (body: string, eos: boolean): ProcessingResponse => ({
  response: 'request_body',
  request_body: { response: { body_mutation: { streamed_response: eos ? { body: Buffer.from(body), end_of_stream: true } : { body: Buffer.from(body) } } } },
});
const plainBody: ProcessingResponse = { response: 'request_body', request_body: { response: {} } };

interface Case {
  name: string;
  expectBody: boolean;
  answers: ProcessingResponse[];
  /** Index of the answer that completes the decision. */
  completesAt: number;
  want: (a: PickerAnswer) => void;
}

const cases: Case[] = [
  {
    name: 'FULL_DUPLEX_STREAMED (GIE, llm-d, infergate): headers answer, then the body echoed in chunks up to end_of_stream',
    expectBody: true,
    answers: [headersAnswer('10.0.0.2:8000,10.0.0.3:8000', [{ key: 'x-gateway-model-name', value: 'm' }]), streamed('{"model":', false), streamed('"m"}', true)],
    completesAt: 2,
    want: (a) => {
      assert.equal(a.kind, 'route');
      if (a.kind !== 'route') return;
      assert.deepEqual(a.endpoints, ['10.0.0.2:8000', '10.0.0.3:8000']);
      assert.match(a.source, /dynamic metadata envoy\.lb/);
      assert.equal(a.headers.set.get('x-gateway-model-name'), 'm');
      assert.equal(a.body?.toString(), '{"model":"m"}');
    },
  },
  {
    name: "GIE's lightweight EPP: a plain answer to the body first, the headers answer after: the body is unchanged",
    expectBody: true,
    answers: [plainBody, headersAnswer('10.0.0.2:8000')],
    completesAt: 1,
    want: (a) => {
      assert.equal(a.kind === 'route' && a.body, undefined);
      assert.deepEqual(a.kind === 'route' && a.endpoints, ['10.0.0.2:8000']);
    },
  },
  {
    name: 'a request without a body: the headers answer decides',
    expectBody: false,
    answers: [headersAnswer('10.0.0.4:8000')],
    completesAt: 0,
    want: (a) => assert.deepEqual(a.kind === 'route' && a.endpoints, ['10.0.0.4:8000']),
  },
  {
    name: 'BUFFERED style: an empty headers answer, then the pick and a replaced body on the body answer; only the header names the pick',
    expectBody: true,
    answers: [
      { response: 'request_headers', request_headers: {} },
      { response: 'request_body', request_body: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint', ' 10.0.0.5:8000 , ')] }, body_mutation: { body: Buffer.from('{"model":"b"}') } } } },
    ],
    completesAt: 1,
    want: (a) => {
      assert.equal(a.kind, 'route');
      if (a.kind !== 'route') return;
      assert.deepEqual(a.endpoints, ['10.0.0.5:8000']);
      assert.match(a.source, /^header x-gateway-destination-endpoint$/);
      assert.equal(a.body?.toString(), '{"model":"b"}');
    },
  },
  {
    name: 'the metadata wins over a header that disagrees (the protocol leaves it undefined; Envoy LBs read envoy.lb)',
    expectBody: false,
    answers: [{ ...headersAnswer('10.0.0.2:8000'), dynamic_metadata: lb('10.0.0.9:8000') }],
    completesAt: 0,
    want: (a) => assert.deepEqual(a.kind === 'route' && a.endpoints, ['10.0.0.9:8000']),
  },
  {
    name: 'removed headers are recorded; a later set wins over an earlier remove',
    expectBody: false,
    answers: [{ response: 'request_headers', request_headers: { response: { header_mutation: { remove_headers: ['Authorization', 'x-b'], set_headers: [set('x-gateway-destination-endpoint', '10.0.0.2:8000'), set('x-b', '1')] } } } }],
    completesAt: 0,
    want: (a) => {
      assert.equal(a.kind, 'route');
      if (a.kind !== 'route') return;
      assert.deepEqual(a.headers.remove, ['authorization', 'x-b']);
      assert.equal(a.headers.set.get('x-b'), '1');
    },
  },
  {
    name: 'an immediate response (llm-d: plain text, the status by its enum name, its headers)',
    expectBody: true,
    answers: [{ response: 'immediate_response', immediate_response: { status: { code: 'TooManyRequests' }, body: Buffer.from('request evicted by flow control'), headers: { set_headers: [set('X-LLM-D-Request-Dropped-Reason', 'evicted')] } } }],
    completesAt: 0,
    want: (a) => assert.deepEqual(a, { kind: 'immediate', status: 429, headers: [['x-llm-d-request-dropped-reason', 'evicted']], body: Buffer.from('request evicted by flow control') }),
  },
];

for (const c of cases) {
  test(c.name, () => {
    const collector = new AnswerCollector(c.expectBody);
    let got: PickerAnswer | undefined;
    c.answers.forEach((r, i) => {
      const a = collector.add(r);
      if (i < c.completesAt) assert.equal(a, undefined, `answer ${i} must not complete the decision`);
      if (i === c.completesAt) got = a;
    });
    assert.ok(got, 'the decision completes');
    c.want(got);
  });
}

test('answers outside the protocol are the picker failing (its failureMode applies), with what was wrong', () => {
  const noPick = new AnswerCollector(false);
  assert.throws(() => noPick.add({ response: 'request_headers', request_headers: {} }), (e: Error) => e instanceof PickerUnavailable && /without choosing an endpoint: neither dynamic metadata envoy\.lb x-gateway-destination-endpoint nor header/.test(e.message));
  const wrongPhase = new AnswerCollector(true);
  assert.throws(() => wrongPhase.add({ response: 'response_headers', response_headers: {} }), /answered response_headers before the request was decided/);
  assert.throws(() => new AnswerCollector(true).add({}), /empty ProcessingResponse/);
});

test('httpStatus: numbers, enum names and numeric strings; unset or unknown is 500', () => {
  const cases: [number | string | undefined, number][] = [[503, 503], ['ServiceUnavailable', 503], ['TooManyRequests', 429], ['BadRequest', 400], ['404', 404], [undefined, 500], ['Empty', 500], ['NoSuchStatus', 500], [99, 500]];
  for (const [code, want] of cases) assert.equal(httpStatus(code), want, String(code));
});

test("mode_override: a picker that asks, in its answer to the request headers, to skip the response headers is not sent them; on another answer it is ignored, as Envoy ignores it", () => {
  const decide = (...answers: ProcessingResponse[]): PickerAnswer => {
    const c = new AnswerCollector(true);
    let a: PickerAnswer | undefined;
    for (const r of answers) a = c.add(r);
    assert.ok(a);
    return a;
  };
  const mode = (r: ProcessingResponse, m: 'SKIP' | 'SEND'): ProcessingResponse => ({ ...r, mode_override: { response_header_mode: m } });
  const skipped = decide(mode(headersAnswer('10.0.0.2:8000'), 'SKIP'), plainBody);
  assert.equal(skipped.kind === 'route' && skipped.skipResponseHeaders, true);
  const onBody = decide(headersAnswer('10.0.0.2:8000'), mode(plainBody, 'SKIP'));
  assert.equal(onBody.kind === 'route' && onBody.skipResponseHeaders, undefined, 'not on a body answer');
  const sentBack = decide(mode(headersAnswer('10.0.0.2:8000'), 'SKIP'), mode(plainBody, 'SEND'));
  assert.equal(sentBack.kind === 'route' && sentBack.skipResponseHeaders, true, 'a body answer cannot undo it either');
  const plain = decide(headersAnswer('10.0.0.2:8000'), plainBody);
  assert.equal('skipResponseHeaders' in plain, false, 'not set without an override');
});
