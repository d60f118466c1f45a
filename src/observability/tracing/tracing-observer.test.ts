import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, ParentBasedSampler, AlwaysOnSampler, SimpleSpanProcessor, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace-base';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { newRequestRecord, type RequestRecord, type UpstreamAttempt } from '../request-record.js';
import { TracingObserver } from './tracing-observer.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

function setup(sampler: Sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() })): { observer: TracingObserver; spans: () => ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { observer: new TracingObserver(provider.getTracer('test')), spans: () => exporter.getFinishedSpans() };
}

/** A record as the data plane fills it for a streamed chat completion routed, scheduled and answered. */
function chatRecord(over: Partial<RequestRecord> = {}): RequestRecord {
  const r = newRequestRecord('req-1', 'POST', '/v1/chat/completions', '127.0.72.9');
  // A whole millisecond: durations the test adds to it (t + 8) then come back exact (8 ms is 0.008 s, not 0.00799...).
  r.startedAt = Math.floor(r.startedAt);
  const t = r.startedAt;
  return Object.assign(r, {
    model: 'food-review',
    baseModel: 'llama-3-8b',
    targetModel: 'food-review-v2',
    rewriteName: 'canary',
    priority: 1,
    pool: 'default/llama',
    stream: true,
    bbrDoneAt: t + 1,
    routedAt: t + 2,
    scheduledAt: t + 3,
    schedulingTrace: [
      {
        profile: 'default',
        candidates: ['10.0.0.1:8000', '10.0.0.2:8000', '10.0.0.3:8000'],
        filters: [],
        scored: ['10.0.0.1:8000', '10.0.0.2:8000'],
        scorers: [
          { name: 'queue-scorer', type: 'queue-scorer', weight: 2, scores: [0.25, 1] },
          { name: 'kv-cache-utilization-scorer', type: 'kv-cache-utilization-scorer', weight: 1, scores: [0.5, 0.75] },
        ],
        totals: [1, 2.75],
        picked: '10.0.0.2:8000',
      },
    ],
    ...over,
  });
}

function attempt(r: RequestRecord, a: UpstreamAttempt): UpstreamAttempt {
  r.attemptLog.push(a);
  r.attempts = r.attemptLog.length;
  r.endpoint = a.endpoint;
  return a;
}

function byName(spans: ReadableSpan[], name: string): ReadableSpan {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `no span ${name} among ${spans.map((x) => x.name).join(', ')}`);
  return s;
}

const ms = (s: ReadableSpan, which: 'startTime' | 'endTime'): number => hrTimeToMilliseconds(s[which]);

describe('TracingObserver', () => {
  it('makes a SERVER span with GenAI attributes, stage spans and a CLIENT span per attempt, joined to the client trace', () => {
    const { observer, spans } = setup();
    const r = chatRecord({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=abc' });
    const t = r.startedAt;
    assert.equal(observer.tracesScheduling(r), true, 'a sampled request asks for a traced pick');
    const first = attempt(r, { endpoint: '10.0.0.2:8000', startedAt: t + 3 });
    const h1 = observer.attemptStarting(r, first);
    Object.assign(first, { endedAt: t + 4, error: 'ECONNREFUSED' });
    const second = attempt(r, { endpoint: '10.0.0.1:8000', startedAt: t + 5 });
    const h2 = observer.attemptStarting(r, second);
    Object.assign(second, { headersAt: t + 6, endedAt: t + 20, status: 200 });
    Object.assign(r, { firstTokenAt: t + 8, lastTokenAt: t + 19, tokenEvents: 12, status: 200, endedAt: t + 20, usage: { promptTokens: 42, completionTokens: 11, cachedTokens: 16 }, requestBytes: 100, responseBytes: 900 });
    observer.ended(r);

    const all = spans();
    assert.deepEqual(all.map((s) => s.name).sort(), ['chat food-review', 'chat food-review-v2', 'chat food-review-v2', 'infergate.bbr', 'infergate.routing', 'infergate.scheduling'].sort());
    const root = byName(all, 'chat food-review');
    assert.equal(root.kind, SpanKind.SERVER);
    assert.equal(root.spanContext().traceId, CLIENT_TRACE, 'joins the client trace');
    assert.equal(root.parentSpanContext?.spanId, CLIENT_SPAN, 'the client span is its parent');
    assert.equal(root.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(
      { ...root.attributes },
      {
        'http.request.method': 'POST',
        'url.path': '/v1/chat/completions',
        'url.scheme': 'http',
        'client.address': '127.0.72.9',
        'http.response.status_code': 200,
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'food-review',
        'gen_ai.request.stream': true,
        'gen_ai.response.model': 'food-review-v2',
        'gen_ai.usage.input_tokens': 42,
        'gen_ai.usage.output_tokens': 11,
        'gen_ai.usage.cache_read.input_tokens': 16,
        'gen_ai.response.time_to_first_chunk': 0.008,
        'server.address': '10.0.0.1',
        'server.port': 8000,
        'infergate.request_id': 'req-1',
        'infergate.attempts': 2,
        'infergate.priority': 1,
        'infergate.pool': 'default/llama',
        'infergate.base_model': 'llama-3-8b',
        'infergate.rewrite': 'canary',
        'infergate.token_events': 12,
      },
    );
    assert.ok(Math.abs(ms(root, 'startTime') - r.startTime) < 0.01);
    assert.ok(Math.abs(ms(root, 'endTime') - (r.startTime + 20)) < 0.01);

    for (const s of all.filter((x) => x !== root)) {
      assert.equal(s.parentSpanContext?.spanId, root.spanContext().spanId, `${s.name} is a child of the request span`);
      assert.equal(s.spanContext().traceId, CLIENT_TRACE);
    }
    // Stages follow each other on the record's clock.
    const stages = ['infergate.bbr', 'infergate.routing', 'infergate.scheduling'].map((n) => byName(all, n));
    assert.deepEqual(
      stages.map((s) => [Math.round(ms(s, 'startTime') - r.startTime), Math.round(ms(s, 'endTime') - r.startTime)]),
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    );
    assert.equal(stages[2]!.attributes['infergate.scheduling.picked'], '10.0.0.2:8000');
    assert.equal(stages[2]!.attributes['infergate.scheduling.scorer.queue-scorer.score'], 1);
    assert.equal(stages[2]!.attributes['infergate.scheduling.total'], 2.75);

    const attempts = all.filter((s) => s.kind === SpanKind.CLIENT).sort((a, b) => ms(a, 'startTime') - ms(b, 'startTime'));
    assert.equal(attempts.length, 2);
    assert.equal(attempts[0]!.attributes['error.type'], 'ECONNREFUSED');
    assert.equal(attempts[0]!.status.code, SpanStatusCode.ERROR);
    assert.equal(attempts[0]!.attributes['server.address'], '10.0.0.2');
    assert.equal(attempts[1]!.attributes['http.response.status_code'], 200);
    assert.equal(attempts[1]!.attributes['url.full'], 'http://10.0.0.1:8000/v1/chat/completions');
    assert.equal(attempts[1]!.attributes['gen_ai.request.model'], 'food-review-v2');
    // Required on GenAI client spans beside the operation.
    assert.equal(attempts[1]!.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(attempts[1]!.attributes['gen_ai.provider.name'], 'openai');
    assert.equal(attempts[1]!.attributes['infergate.attempt'], 2);
    assert.deepEqual(attempts[1]!.events.map((e) => e.name), ['response_headers']);

    // Each pod is told its own attempt span, in the client's trace, with the client's tracestate.
    assert.deepEqual(h1, { traceparent: `00-${CLIENT_TRACE}-${attempts[0]!.spanContext().spanId}-01`, tracestate: 'vendor=abc' });
    assert.deepEqual(h2, { traceparent: `00-${CLIENT_TRACE}-${attempts[1]!.spanContext().spanId}-01`, tracestate: 'vendor=abc' });
  });

  it("names an Anthropic Messages request (vLLM's /v1/messages) a chat turn of provider anthropic, with its usage", () => {
    const { observer, spans } = setup();
    const r = chatRecord({ path: '/v1/messages', rewriteName: undefined, targetModel: undefined });
    const t = r.startedAt;
    const a = attempt(r, { endpoint: '10.0.0.1:8000', startedAt: t + 3 });
    observer.attemptStarting(r, a);
    Object.assign(a, { headersAt: t + 6, endedAt: t + 20, status: 200 });
    Object.assign(r, { firstTokenAt: t + 8, tokenEvents: 5, status: 200, endedAt: t + 20, usage: { promptTokens: 42, completionTokens: 11 } });
    observer.ended(r);

    const all = spans();
    const root = all.find((s) => s.kind === SpanKind.SERVER)!;
    const client = all.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(root.name, 'chat food-review');
    assert.equal(client.name, 'chat food-review');
    for (const s of [root, client]) {
      assert.equal(s.attributes['gen_ai.operation.name'], 'chat', s.name);
      assert.equal(s.attributes['gen_ai.provider.name'], 'anthropic', s.name);
      assert.equal(s.attributes['gen_ai.request.model'], 'food-review', s.name);
    }
    assert.equal(root.attributes['gen_ai.usage.input_tokens'], 42);
    assert.equal(root.attributes['gen_ai.usage.output_tokens'], 11);
  });

  it('starts a new trace when the client sent none, or an invalid traceparent', () => {
    for (const traceparent of [undefined, 'garbage', `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`]) {
      const { observer, spans } = setup();
      const r = chatRecord(traceparent === undefined ? {} : { traceparent });
      const a = attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 });
      const h = observer.attemptStarting(r, a);
      Object.assign(a, { endedAt: r.startedAt + 5, status: 200 });
      Object.assign(r, { status: 200, endedAt: r.startedAt + 5 });
      observer.ended(r);
      const root = byName(spans(), 'chat food-review');
      assert.equal(root.parentSpanContext, undefined, `${traceparent}: a root span`);
      assert.notEqual(root.spanContext().traceId, CLIENT_TRACE);
      assert.match(h.traceparent!, new RegExp(`^00-${root.spanContext().traceId}-[0-9a-f]{16}-01$`));
    }
  });

  it('records nothing when the trace is not sampled, and still tells the pod the trace', () => {
    const cases: { name: string; sampler?: Sampler; traceparent?: string; want: RegExp }[] = [
      { name: 'client says not sampled', traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00`, want: new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-00$`) },
      { name: 'sampler off', sampler: new AlwaysOffSampler(), want: /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/ },
    ];
    for (const c of cases) {
      const { observer, spans } = setup(c.sampler);
      const r = chatRecord(c.traceparent ? { traceparent: c.traceparent } : {});
      assert.equal(observer.tracesScheduling(r), false, `${c.name}: the pick stays untraced`);
      const a = attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 });
      const h = observer.attemptStarting(r, a);
      Object.assign(r, { status: 200, endedAt: r.startedAt + 5 });
      observer.ended(r);
      assert.equal(spans().length, 0, c.name);
      assert.match(h.traceparent!, c.want, c.name);
    }
  });

  it('ends the stage a refused request failed in with its error; a 4xx refusal leaves the request span unset', () => {
    const { observer, spans } = setup();
    const r = newRequestRecord('req-2', 'POST', '/v1/completions', undefined);
    Object.assign(r, { model: 'nope', bbrDoneAt: r.startedAt + 1, errorCode: 'model_not_found', status: 404, endedAt: r.startedAt + 2 });
    observer.ended(r);
    const all = spans();
    assert.deepEqual(all.map((s) => s.name).sort(), ['infergate.bbr', 'infergate.routing', 'text_completion nope']);
    const root = byName(all, 'text_completion nope');
    assert.equal(root.attributes['error.type'], 'model_not_found');
    assert.equal(root.attributes['gen_ai.response.model'], undefined, 'nothing answered');
    assert.equal(root.status.code, SpanStatusCode.UNSET);
    const routing = byName(all, 'infergate.routing');
    assert.equal(routing.status.code, SpanStatusCode.ERROR);
    assert.equal(routing.attributes['error.type'], 'model_not_found');
  });

  it('puts the request span in error when the pod answers 5xx or every attempt fails', () => {
    const cases: { name: string; fill: (r: RequestRecord) => void; errorType: string }[] = [
      {
        name: 'pod 503',
        fill: (r) => {
          Object.assign(attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 }), { endedAt: r.startedAt + 4, status: 503 });
          Object.assign(r, { status: 503, endedAt: r.startedAt + 4 });
        },
        errorType: '503',
      },
      {
        name: 'no endpoint answered',
        fill: (r) => {
          Object.assign(attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 }), { endedAt: r.startedAt + 4, error: 'ECONNREFUSED' });
          Object.assign(r, { status: 502, errorCode: 'upstream_unavailable', endedAt: r.startedAt + 4 });
        },
        errorType: 'upstream_unavailable',
      },
      {
        name: 'stream cut by the pod',
        fill: (r) => {
          Object.assign(attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 }), { headersAt: r.startedAt + 4, endedAt: r.startedAt + 9, status: 200, error: 'UND_ERR_SOCKET' });
          Object.assign(r, { status: 200, endedAt: r.startedAt + 9 });
        },
        errorType: 'UND_ERR_SOCKET',
      },
      {
        // What forward records: the client had its 200, and the cut is the gateway's upstream_unavailable.
        name: 'stream cut by the pod after its headers went out',
        fill: (r) => {
          Object.assign(attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 }), { headersAt: r.startedAt + 4, endedAt: r.startedAt + 9, status: 200, error: 'UND_ERR_SOCKET' });
          Object.assign(r, { status: 200, errorCode: 'upstream_unavailable', endedAt: r.startedAt + 9 });
        },
        errorType: 'upstream_unavailable',
      },
      {
        name: 'stream cut at the upstream timeout after its headers went out',
        fill: (r) => {
          Object.assign(attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 }), { headersAt: r.startedAt + 4, endedAt: r.startedAt + 9, status: 200, error: 'UND_ERR_ABORTED' });
          Object.assign(r, { status: 200, errorCode: 'upstream_timeout', endedAt: r.startedAt + 9 });
        },
        errorType: 'upstream_timeout',
      },
    ];
    for (const c of cases) {
      const { observer, spans } = setup();
      const r = chatRecord();
      c.fill(r);
      for (const a of r.attemptLog) observer.attemptStarting(r, a);
      observer.ended(r);
      const root = byName(spans(), 'chat food-review');
      assert.equal(root.attributes['error.type'], c.errorType, c.name);
      assert.equal(root.status.code, SpanStatusCode.ERROR, c.name);
    }
  });

  it('does not count a client that went away as an error', () => {
    const { observer, spans } = setup();
    const r = chatRecord();
    const a = attempt(r, { endpoint: '10.0.0.1:8000', startedAt: r.startedAt + 3 });
    observer.attemptStarting(r, a);
    // As forward records it: the gateway aborted the attempt when the client left.
    Object.assign(a, { headersAt: r.startedAt + 4, endedAt: r.startedAt + 6, status: 200, error: 'UND_ERR_ABORTED' });
    Object.assign(r, { status: 200, clientGone: true, endedAt: r.startedAt + 6 });
    observer.ended(r);
    const root = byName(spans(), 'chat food-review');
    assert.equal(root.attributes['error.type'], undefined);
    assert.equal(root.attributes['infergate.client_gone'], true);
    assert.equal(root.status.code, SpanStatusCode.UNSET);
    const client = spans().find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(client.attributes['error.type'], undefined, 'the abort is no failure of the pod');
    assert.equal(client.attributes['infergate.client_gone'], true);
    assert.equal(client.status.code, SpanStatusCode.UNSET);
  });
});
