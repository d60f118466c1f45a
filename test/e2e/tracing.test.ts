/**
 * OpenTelemetry tracing end to end: a gateway with tracing on, a pod that records the headers it was sent,
 * and a real OTLP/HTTP receiver decoding what the gateway exports; then `infergate serve` as a process,
 * exporting over OTLP/gRPC to a real gRPC receiver. Loopback addresses: 127.0.73.x.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import { startCli } from '../helpers/cli-process.js';
import { startOtlpGrpcReceiver, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';

const MODEL = 'tiny-model';
const POD_IP = '127.0.73.2';
const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const EARLY_SPAN = 'b7ad6b7169203332';
const USAGE = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 };

/** What the pod was sent, per inference request. */
const seen: IncomingHttpHeaders[] = [];

/** A vLLM-shaped pod small enough to read: fixed chat answers (streamed or not). */
function startPod(): Promise<ScriptedPod> {
  return startScriptedPod({
    host: POD_IP,
    model: MODEL,
    paths: {
      '/v1/chat/completions': (req, res, text) => {
        seen.push(req.headers);
        const body = JSON.parse(text) as { stream?: boolean };
        const base = { id: 'cmpl-1', created: 1, model: MODEL };
        if (!body.stream) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi there' }, finish_reason: 'stop' }], usage: USAGE }));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const word of ['hi', ' there']) res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage: USAGE })}\n\n`);
        res.end('data: [DONE]\n\n');
      },
    },
  });
}

let pod: ScriptedPod;
let receiver: OtlpReceiver;
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;

before(async () => {
  pod = await startPod();
  receiver = await startOtlpReceiver('127.0.73.3');
  cfg = await tempConfig({ 'all.yaml': [podYaml('tiny-0', POD_IP, { app: 'tiny' }), poolYaml('tiny', { app: 'tiny' }, pod.port), baseModelRouteYaml('tiny', MODEL, [['tiny', 1]])].join('---\n') });
  // A long batch delay: the test flushes, so what it reads is what a shutdown would export.
  gw = await startTestGateway(cfg.dir, { tracing: { url: `${receiver.url}/v1/traces`, source: 'test', scheduleDelayMs: 60_000 }, accessLog: { file: join(cfg.dir, 'access.jsonl') } });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await receiver?.close();
  await pod?.close();
  await cfg?.remove();
});

/** The spans of one trace, once its request span has been exported. */
async function traceOf(find: (s: ReceivedSpan) => boolean): Promise<{ root: ReceivedSpan; children: ReceivedSpan[] }> {
  await gw.tracing!.flush();
  assert.ok(await waitFor(() => receiver.spans.some((s) => s.kind === 'SERVER' && find(s)), 5000), 'the request span arrived at the receiver');
  const root = receiver.spans.find((s) => s.kind === 'SERVER' && find(s))!;
  return { root, children: receiver.spans.filter((s) => s.parentSpanId === root.spanId) };
}

describe('tracing end to end', () => {
  it('exports a request span with GenAI attributes in the client trace, and tells the pod its attempt span', async () => {
    seen.length = 0;
    await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] }, { headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'acme=1' } });
    const { root, children } = await traceOf((s) => s.traceId === CLIENT_TRACE);

    assert.equal(root.name, `chat ${MODEL}`);
    assert.equal(root.parentSpanId, CLIENT_SPAN, "the client's span is the parent");
    assert.equal(root.resource['service.name'], 'infergate');
    const a = root.attributes;
    assert.equal(a['gen_ai.operation.name'], 'chat');
    assert.equal(a['gen_ai.request.model'], MODEL);
    assert.equal(a['gen_ai.response.model'], MODEL);
    assert.equal(a['gen_ai.usage.input_tokens'], USAGE.prompt_tokens);
    assert.equal(a['gen_ai.usage.output_tokens'], USAGE.completion_tokens);
    assert.equal(a['server.address'], POD_IP);
    assert.equal(a['server.port'], pod.port);
    assert.equal(a['http.request.method'], 'POST');
    assert.equal(a['url.path'], '/v1/chat/completions');
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['infergate.pool'], 'default/tiny');
    assert.equal(a['infergate.base_model'], MODEL);
    assert.equal(a['infergate.attempts'], 1);
    assert.equal(a['error.type'], undefined);

    assert.deepEqual(children.map((s) => s.name).sort(), [`chat ${MODEL}`, 'infergate.bbr', 'infergate.routing', 'infergate.scheduling']);
    const scheduling = children.find((s) => s.name === 'infergate.scheduling')!;
    assert.equal(scheduling.attributes['infergate.scheduling.picked'], `${POD_IP}:${pod.port}`);
    assert.ok(Object.keys(scheduling.attributes).some((k) => /^infergate\.scheduling\.scorer\..+\.score$/.test(k)), 'each scorer scored the pick');
    const attempt = children.find((s) => s.kind === 'CLIENT')!;
    assert.equal(attempt.attributes['http.response.status_code'], 200);
    for (const s of children) assert.ok(s.startNs >= root.startNs && s.endNs <= root.endNs, `${s.name} lies within the request`);

    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.traceparent, `00-${CLIENT_TRACE}-${attempt.spanId}-01`, 'the pod is told the attempt span, in the client trace');
    assert.equal(seen[0]!.tracestate, 'acme=1');
  });

  it("restarts the trace over a client's unusable traceparent, and then drops its tracestate: that state was the other trace's", async () => {
    seen.length = 0;
    await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] }, { headers: { traceparent: 'not-a-traceparent', tracestate: 'acme=1' } });
    assert.equal(seen.length, 1);
    assert.match(String(seen[0]!.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/, 'the pod is told the new trace');
    assert.equal(seen[0]!.tracestate, undefined, 'W3C Trace Context: a tracestate is not carried into a restarted trace');
  });

  it('starts a trace for a client that sent none, and reads usage from a stream', async () => {
    seen.length = 0;
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream) {
      // drain
    }
    assert.equal(seen.length, 1);
    const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(seen[0]!.traceparent));
    assert.ok(sent, `the pod got a traceparent: ${String(seen[0]!.traceparent)}`);
    const { root, children } = await traceOf((s) => s.traceId === sent[1]);
    assert.equal(root.parentSpanId, '', 'a new trace');
    assert.equal(root.attributes['gen_ai.request.stream'], true);
    assert.equal(root.attributes['gen_ai.usage.output_tokens'], USAGE.completion_tokens);
    assert.equal(typeof root.attributes['gen_ai.response.time_to_first_chunk'], 'number');
    assert.equal(children.find((s) => s.kind === 'CLIENT')?.spanId, sent[2]);
    // The access log names the trace the gateway started (its lines are written every 50 ms).
    let line: { trace_id: string | null } | undefined;
    assert.ok(
      await waitFor(async () => {
        const text = await readFile(join(cfg.dir, 'access.jsonl'), 'utf8').catch(() => '');
        line = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { trace_id: string | null }).find((l) => l.trace_id === root.traceId);
        return line !== undefined;
      }, 5000),
      'the access log line carries the trace id of the request span',
    );
  });

  it('traces a refused request with its error code', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-request-id': 'refused-1' } }), (e: unknown) => (e as { status?: number }).status === 404);
    const { root, children } = await traceOf((s) => s.attributes['infergate.request_id'] === 'refused-1');
    assert.equal(root.name, 'chat no-such-model');
    assert.equal(root.attributes['http.response.status_code'], 404);
    assert.equal(root.attributes['error.type'], 'model_not_found');
    // Body-based routing found no base model for it; routing found no rule and no pool that takes an unknown model
    // (one whose pods cannot say what they serve), and refused it: its span carries the error, none comes after.
    assert.deepEqual(children.map((s) => [s.name, s.attributes['error.type']]), [['infergate.bbr', undefined], ['infergate.routing', 'model_not_found']]);
  });

  it('puts each refusal on the stage that made it: bad JSON on body-based routing, no matching rule on routing', async () => {
    const bad = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'refused-json' }, body: '{"model":' });
    assert.equal(bad.status, 400);
    const json = await traceOf((s) => s.attributes['infergate.request_id'] === 'refused-json');
    assert.deepEqual(json.children.map((s) => [s.name, s.attributes['error.type']]), [['infergate.bbr', 'invalid_json']]);
    // A GET names no model: body-based routing passes it on, and no rule matches it without the base-model header.
    const unrouted = await fetch(`${gw.url}/not/routed`, { headers: { 'x-request-id': 'refused-route' } });
    assert.equal(unrouted.status, 404);
    const route = await traceOf((s) => s.attributes['infergate.request_id'] === 'refused-route');
    assert.deepEqual(route.children.map((s) => [s.name, s.attributes['error.type']]).sort(), [['infergate.bbr', undefined], ['infergate.routing', 'route_not_found']]);
  });
  it("keeps a request refused before its body is read in the client's trace: its span and its access-log line", async () => {
    // Transfer-Encoding gzip is refused (400) before the body is read or the request routed.
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(gw.url);
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'transfer-encoding': 'gzip, chunked', 'x-request-id': 'refused-early', traceparent: `00-${CLIENT_TRACE}-${EARLY_SPAN}-01` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('\x1f\x8b');
    });
    assert.equal(status, 400);
    const { root } = await traceOf((s) => s.attributes['infergate.request_id'] === 'refused-early');
    assert.equal(root.traceId, CLIENT_TRACE, "the client's trace");
    assert.equal(root.parentSpanId, EARLY_SPAN, "the client's span is the parent");
    assert.equal(root.attributes['error.type'], 'bad_request');
    let line: { trace_id: string | null } | undefined;
    assert.ok(
      await waitFor(async () => {
        const text = await readFile(join(cfg.dir, 'access.jsonl'), 'utf8').catch(() => '');
        line = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { request_id: string; trace_id: string | null }).find((l) => l.request_id === 'refused-early');
        return line !== undefined;
      }, 5000),
      'the refusal has its access-log line',
    );
    assert.equal(line!.trace_id, CLIENT_TRACE);
  });
});

describe('tracing over OTLP/gRPC, from the command line', () => {
  it('serve --otlp-endpoint --otlp-protocol grpc exports the request span to a real OTLP/gRPC receiver, the rest flushed at SIGTERM', async () => {
    const grpc = await startOtlpGrpcReceiver('127.0.73.4');
    const cli = await startCli(['serve', '-f', cfg.dir, '--host', '127.0.73.5', '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s', '--otlp-endpoint', grpc.url, '--otlp-protocol', 'grpc'], /infergate listening on http:\/\//);
    try {
      assert.match(await cli.line(/tracing on/), /spans are exported over OTLP\/gRPC .*protocol=grpc/);
      const url = /listening on (http:\/\/\S+)/.exec(await cli.line(/listening on/))![1]!;
      const c = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
      await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] }, { headers: { 'x-request-id': 'grpc-1' } });
      // The batch waits up to 5 s (OTEL_BSP_SCHEDULE_DELAY's default); SIGTERM's shutdown exports what is left.
      cli.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
      const root = grpc.spans.find((s) => s.kind === 'SERVER' && s.attributes['infergate.request_id'] === 'grpc-1');
      assert.ok(root, `the request span arrived over gRPC (${grpc.spans.length} spans)`);
      assert.equal(root.name, `chat ${MODEL}`);
      assert.equal(root.attributes['gen_ai.usage.output_tokens'], USAGE.completion_tokens);
      assert.deepEqual(grpc.spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name).sort(), [`chat ${MODEL}`, 'infergate.bbr', 'infergate.routing', 'infergate.scheduling']);
    } finally {
      cli.kill('SIGKILL');
      await grpc.close();
    }
  });
});
