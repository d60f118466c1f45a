/**
 * Tracing in `extproc`: the endpoint picker joins the client's trace, tells the pod its attempt span through
 * the pick's header mutation, and exports the request span with what the response Envoy passed it carried
 * (status, usage, time to the first chunk), or that the client left. Envoy's messages are replayed over real
 * gRPC; a real OTLP/HTTP receiver decodes the spans. Loopback addresses: 127.0.178.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExtProcClient, requestBody, requestHeaders, responseBody, responseHeaders } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { CHAT, FULL_DUPLEX } from '../helpers/extproc-epp.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const MODEL = 'meta/llama';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
let fleet: Fleet;
let cfg: TempConfig;
let receiver: OtlpReceiver;
let xp: RunningExtproc;
let client: ExtProcClient;

before(async () => {
  fleet = await startFleet(178, [{ name: 'llama-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 }]);
  receiver = await startOtlpReceiver('127.0.178.9');
  cfg = await tempConfig({ 'all.yaml': [podYaml('llama-0', fleet.ipOf('llama-0'), { model: 'llama' }), poolYaml('llama', { model: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n') });
  // A long batch delay: the test flushes, so what it reads is what a shutdown would export.
  xp = await startTestExtproc({ configPath: cfg.dir, host: '127.0.178.1', tracing: { url: `${receiver.url}/v1/traces`, source: 'test', scheduleDelayMs: 60_000 } });
  client = new ExtProcClient(`127.0.178.1:${xp.ports.epp}`);
  const endpoint = `${fleet.ipOf('llama-0')}:${fleet.port}`;
  assert.ok(await waitFor(() => xp.gateway.datastore.endpoint(endpoint)?.models?.has(MODEL) === true), 'the pod was not discovered');
});

after(async () => {
  client?.close();
  await xp?.close();
  await receiver?.close();
  await fleet?.close();
  await cfg?.remove();
});

/** A header the pick sets, from the headers answer's mutation. */
function setHeader(r: ProcessingResponse, name: string): string | undefined {
  const h = r.request_headers?.response?.header_mutation?.set_headers?.find((o) => o.header.key === name);
  return h?.header.raw_value ? Buffer.from(h.header.raw_value).toString() : undefined;
}

/** The request span whose `infergate.request_id` is `id`, once exported, and its children. */
async function traceOf(id: string): Promise<{ root: ReceivedSpan; children: ReceivedSpan[] }> {
  await xp.tracing!.flush();
  const find = (s: ReceivedSpan): boolean => s.kind === 'SERVER' && s.attributes['infergate.request_id'] === id;
  assert.ok(await waitFor(() => receiver.spans.some(find)), `the request span of ${id} arrived`);
  const root = receiver.spans.find(find)!;
  return { root, children: receiver.spans.filter((s) => s.parentSpanId === root.spanId) };
}

const event = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
const USAGE = { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 };

test('a stream through the picker: the client trace continues to the pod, and the span carries the answer Envoy passed', async () => {
  const s = client.open();
  const headers = { ...CHAT, 'x-request-id': 'xp-stream', traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` };
  s.send(requestHeaders(headers, false, FULL_DUPLEX), requestBody(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } }), true));
  const pick = await s.next();
  const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(setHeader(pick, 'traceparent') ?? '');
  assert.ok(sent, 'the pick tells the pod a traceparent');
  assert.equal(sent[1], CLIENT_TRACE, "in the client's trace");
  await s.next();
  s.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }, false));
  await s.next();
  for (const [i, c] of [event({ choices: [{ delta: { content: 'a' } }] }), event({ choices: [], usage: USAGE }), 'data: [DONE]\n\n'].entries()) {
    s.send(responseBody(c, i === 2));
    await s.next();
  }
  s.end();
  await s.status;

  const { root, children } = await traceOf('xp-stream');
  assert.equal(root.traceId, CLIENT_TRACE);
  assert.equal(root.parentSpanId, CLIENT_SPAN);
  assert.equal(root.name, `chat ${MODEL}`);
  const a = root.attributes;
  assert.equal(a['http.response.status_code'], 200);
  assert.equal(a['gen_ai.request.stream'], true);
  assert.equal(a['gen_ai.usage.input_tokens'], USAGE.prompt_tokens);
  assert.equal(a['gen_ai.usage.output_tokens'], USAGE.completion_tokens);
  assert.equal(typeof a['gen_ai.response.time_to_first_chunk'], 'number');
  assert.equal(a['infergate.client_gone'], undefined);
  assert.equal(root.status.code, 0);
  const attempt = children.find((c) => c.kind === 'CLIENT');
  assert.equal(attempt?.spanId, sent[2], 'the pod is told the attempt span');
});

test('a stream the client left mid-way: client_gone on its span, which is no error', async () => {
  const s = client.open();
  s.send(requestHeaders({ ...CHAT, 'x-request-id': 'xp-left' }, false, FULL_DUPLEX), requestBody(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }), true));
  await s.next();
  await s.next();
  s.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }, false));
  await s.next();
  s.send(responseBody(event({ choices: [{ delta: { content: 'a' } }] }), false));
  await s.next();
  // Envoy closes its stream when the client goes away, before the body's end_of_stream.
  s.end();
  await s.status;

  const { root } = await traceOf('xp-left');
  assert.equal(root.attributes['infergate.client_gone'], true);
  assert.equal(root.status.code, 0);
});

test("a trace restarted over a client's unusable traceparent: the pick removes the client's tracestate, which was the other trace's", async () => {
  const s = client.open();
  const headers = { ...CHAT, 'x-request-id': 'xp-restart', traceparent: 'not-a-traceparent', tracestate: 'acme=1' };
  s.send(requestHeaders(headers, false, FULL_DUPLEX), requestBody(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }), true));
  const pick = await s.next();
  assert.match(setHeader(pick, 'traceparent') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/, 'the pod is told the new trace');
  assert.ok(pick.request_headers?.response?.header_mutation?.remove_headers?.includes('tracestate'), JSON.stringify(pick.request_headers?.response?.header_mutation));
  s.end();
  await s.status.catch(() => undefined);
});
