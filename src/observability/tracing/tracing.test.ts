import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOtlpGrpcReceiver, startOtlpReceiver, type OtlpGrpcReceiver, type OtlpReceiver, type ReceivedSpan } from '../../../test/helpers/otlp-receiver.js';
import { createLogger } from '../../logger.js';
import { newRequestRecord } from '../request-record.js';
import { Tracing } from './tracing.js';

// This file's loopback addresses: 127.0.72.x.
const HOST = '127.0.72.2';

/** Ends one traced request (BBR, routing, scheduling, one attempt) with known times and usage; returns the attempt's headers. */
function endOneRequest(tracing: Tracing): Record<string, string> {
  const r = newRequestRecord('req-otlp', 'POST', '/v1/chat/completions', '127.0.72.9');
  Object.assign(r, { model: 'm', pool: 'default/p', bbrDoneAt: r.startedAt + 1, routedAt: r.startedAt + 2, scheduledAt: r.startedAt + 3 });
  const attempt = { endpoint: '127.0.72.5:8000', startedAt: r.startedAt + 3 };
  r.attemptLog.push(attempt);
  r.attempts = 1;
  r.endpoint = attempt.endpoint;
  const headers = tracing.observer.attemptStarting(r, attempt);
  Object.assign(attempt, { status: 200, headersAt: r.startedAt + 4, endedAt: r.startedAt + 10 });
  Object.assign(r, { status: 200, endedAt: r.startedAt + 10, usage: { promptTokens: 7, completionTokens: 3 } });
  tracing.observer.ended(r);
  return headers;
}

/** What endOneRequest's spans must look like once received, whatever carried them. */
function assertRequestSpans(received: ReceivedSpan[], headers: Record<string, string>): void {
  const spans = received.filter((s) => s.attributes['infergate.request_id'] === 'req-otlp' || s.parentSpanId !== '');
  const root = spans.find((s) => s.kind === 'SERVER');
  assert.ok(root, 'the request span arrived');
  assert.equal(root.name, 'chat m');
  assert.equal(root.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(root.attributes['gen_ai.usage.input_tokens'], 7);
  assert.equal(root.attributes['gen_ai.usage.output_tokens'], 3);
  assert.equal(root.attributes['server.address'], '127.0.72.5');
  assert.equal(root.resource['service.name'], 'infergate');
  assert.equal(root.scope, 'infergate');
  assert.ok(root.endNs - root.startNs >= 9_000_000n && root.endNs - root.startNs <= 11_000_000n, 'explicit times survive the export');
  const children = spans.filter((s) => s.parentSpanId === root.spanId);
  assert.deepEqual(children.map((s) => s.name).sort(), ['chat m', 'infergate.bbr', 'infergate.routing', 'infergate.scheduling']);
  const client = children.find((s) => s.kind === 'CLIENT')!;
  assert.equal(headers.traceparent, `00-${root.traceId}-${client.spanId}-01`);
  assert.deepEqual(client.events.map((e) => e.name), ['response_headers']);
}

describe('Tracing over OTLP/gRPC', () => {
  let receiver: OtlpGrpcReceiver;
  before(async () => {
    receiver = await startOtlpGrpcReceiver('127.0.72.6');
  });
  after(async () => {
    await receiver.close();
  });

  it('exports a request span to a real OTLP/gRPC receiver (TraceService.Export), flushed on shutdown, with OTEL_EXPORTER_OTLP_HEADERS as metadata', async () => {
    const was = process.env.OTEL_EXPORTER_OTLP_HEADERS;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-tenant=team-a';
    let tracing: Tracing;
    try {
      tracing = new Tracing({ url: receiver.url, source: 'test', protocol: 'grpc' }, createLogger('silent'));
    } finally {
      if (was === undefined) delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
      else process.env.OTEL_EXPORTER_OTLP_HEADERS = was;
    }
    const headers = endOneRequest(tracing);
    assert.equal(receiver.spans.length, 0, 'batched: nothing sent before the flush');
    await tracing.shutdown();
    assert.ok(receiver.calls.length > 0, 'Export was called');
    assert.equal(receiver.calls[0]!.metadata['x-tenant'], 'team-a');
    assertRequestSpans(receiver.spans, headers);
  });

  it('says in the log when nothing answers at the gRPC endpoint', async () => {
    const lines: string[] = [];
    // A port nothing listens on: the export fails (UNAVAILABLE) and the log says where it went.
    const tracing = new Tracing({ url: 'http://127.0.72.7:9', source: 'test', protocol: 'grpc' }, createLogger('warn', (l) => lines.push(l)));
    const r = newRequestRecord('req-nowhere', 'POST', '/v1/completions', undefined);
    Object.assign(r, { status: 200, endedAt: r.startedAt + 1 });
    tracing.observer.ended(r);
    await tracing.shutdown(3000);
    assert.ok(lines.some((l) => /WARN .*trace export to the OTLP endpoint failed; .*Check that the collector listens for OTLP\/gRPC there url=http:\/\/127\.0\.72\.7:9 /.test(l)), lines.join('\n'));
  });
});

describe('Tracing over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver(HOST);
  });
  after(async () => {
    await receiver.close();
  });

  for (const [protocol, contentType] of [
    ['http/protobuf', 'application/x-protobuf'],
    ['http/json', 'application/json'],
  ] as const) {
    it(`exports a request span to a real OTLP/HTTP receiver (${protocol}), flushed on shutdown`, async () => {
      receiver.spans.length = 0;
      receiver.contentTypes.length = 0;
      const tracing = new Tracing({ url: `${receiver.url}/v1/traces`, source: 'test', protocol }, createLogger('silent'));
      const headers = endOneRequest(tracing);
      assert.equal(receiver.spans.length, 0, 'batched: nothing sent before the flush');
      await tracing.shutdown();
      assert.ok(receiver.contentTypes.length > 0 && receiver.contentTypes.every((t) => t.startsWith(contentType)), `sent as ${contentType}: ${receiver.contentTypes.join(', ')}`);
      assertRequestSpans(receiver.spans, headers);
    });
  }

  it('exports to a URL with credentials (basic auth) without putting them in the log', async () => {
    receiver.spans.length = 0;
    const lines: string[] = [];
    const url = receiver.url.replace('http://', 'http://tenant:s3cret@');
    const tracing = new Tracing({ url: `${url}/v1/traces`, source: 'test' }, createLogger('info', (l) => lines.push(l)));
    endOneRequest(tracing);
    await tracing.shutdown();
    assert.ok(receiver.spans.length > 0, 'the spans arrived');
    assert.ok(lines.length > 0 && lines.every((l) => !l.includes('s3cret') && !l.includes('tenant')), lines.join('\n'));
    assert.match(lines[0]!, new RegExp(`tracing on: .* url=http://\\*\\*\\*@${HOST.replace(/\./g, '\\.')}:\\d+/v1/traces `));
  });

  it('says in the log when the collector refuses the spans', async () => {
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"no"}'));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.72.3', () => resolve()));
    const lines: string[] = [];
    try {
      const url = `http://127.0.72.3:${(refusing.address() as AddressInfo).port}/v1/traces`;
      const tracing = new Tracing({ url, source: 'test' }, createLogger('warn', (l) => lines.push(l)));
      const r = newRequestRecord('req-refused', 'POST', '/v1/completions', undefined);
      Object.assign(r, { status: 404, errorCode: 'model_not_found', endedAt: r.startedAt + 1 });
      tracing.observer.ended(r);
      await tracing.shutdown();
    } finally {
      refusing.closeAllConnections();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /WARN .*trace export to the OTLP endpoint failed; .*listens for OTLP\/HTTP there url=http:\/\/127\.0\.72\.3:\d+\/v1\/traces .*dropped_spans=\d/);
  });

  it('does not let a collector that never answers hold up shutdown', async () => {
    const silent = createServer(() => undefined); // reads nothing, answers nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.72.4', () => resolve()));
    const lines: string[] = [];
    try {
      const url = `http://127.0.72.4:${(silent.address() as AddressInfo).port}/v1/traces`;
      const tracing = new Tracing({ url, source: 'test' }, createLogger('warn', (l) => lines.push(l)));
      const r = newRequestRecord('req-stuck', 'POST', '/v1/completions', undefined);
      Object.assign(r, { status: 200, endedAt: r.startedAt + 1 });
      tracing.observer.ended(r);
      await tracing.shutdown(200);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /WARN .*trace export did not finish within 200 ms of shutdown/);
  });

  it('says in the log how many spans it dropped because the export queue was full (the SDK dropped them silently)', async () => {
    const silent = createServer(() => undefined); // holds the first export, so the queue fills behind it
    await new Promise<void>((resolve) => silent.listen(0, '127.0.72.4', () => resolve()));
    const lines: string[] = [];
    const saved = { size: process.env.OTEL_BSP_MAX_QUEUE_SIZE, batch: process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE };
    process.env.OTEL_BSP_MAX_QUEUE_SIZE = '4';
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '4';
    try {
      const url = `http://127.0.72.4:${(silent.address() as AddressInfo).port}/v1/traces`;
      const tracing = new Tracing({ url, source: 'test', scheduleDelayMs: 60_000 }, createLogger('warn', (l) => lines.push(l)));
      // One span each (no attempt, no stages): 10 spans into a queue of 4.
      for (let i = 0; i < 10; i++) {
        const r = newRequestRecord(`req-${i}`, 'POST', '/v1/completions', undefined);
        Object.assign(r, { status: 200, endedAt: r.startedAt + 1 });
        tracing.observer.ended(r);
      }
      assert.equal(lines.filter((l) => /trace spans dropped/.test(l)).length, 1, 'the first drop is said at once, the next ones not in the same minute');
      await tracing.shutdown(200);
    } finally {
      for (const [k, v] of [['OTEL_BSP_MAX_QUEUE_SIZE', saved.size], ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', saved.batch]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    const dropped = lines.filter((l) => /WARN .*trace spans dropped: the span export queue was full \(OTEL_BSP_MAX_QUEUE_SIZE/.test(l));
    assert.equal(dropped.length, 2, lines.join('\n'));
    assert.match(dropped[0]!, /dropped_spans=1 dropped_total=1/);
    // The rest are said at shutdown rather than lost: of 10, the first 4 went out in an export never answered,
    // the next 4 filled the queue behind it, the last 2 were dropped.
    assert.match(dropped[1]!, /dropped_spans=1 dropped_total=2/);
  });
});
