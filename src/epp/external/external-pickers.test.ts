/**
 * The ext_proc client against real gRPC servers on 127.0.89.x: a scripted EPP shows what the client sends and
 * how each way of answering (or not) comes back; plaintext, TLS unverified (GIE's self-signed default) and TLS
 * verified against a CA for the Service's name.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { extProcServiceDefinition } from '../../envoy/protos.js';
import type { ProcessingRequest, ProcessingResponse } from '../../envoy/processing-messages.js';
import { readHeaderMap } from '../../envoy/header-map.js';
import { fromStruct, toStruct } from '../../envoy/struct-value.js';
import { selfSignedCertificate } from '../../extproc/self-signed-certificate.js';
import { createLogger } from '../../logger.js';
import { ExternalPickers, type ExternalPickerOptions } from './external-pickers.js';
import type { PickerAddress } from './picker-address.js';
import { PickerUnavailable } from './picker-unavailable.js';
import type { PickerRequest } from './picker-messages.js';

type Call = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/** What one stream showed the server, and how it ended. */
interface Seen {
  messages: ProcessingRequest[];
  pool: string | undefined;
  ended: Promise<'half-closed' | 'cancelled'>;
  call: Call;
}

/** A scripted EPP: `script` is called on each message with the stream; every stream is recorded. */
async function scriptedEpp(host: string, script: (m: ProcessingRequest, call: Call) => void, creds = ServerCredentials.createInsecure()) {
  const streams: Seen[] = [];
  const server = new Server();
  server.addService(extProcServiceDefinition(), {
    Process: (call: Call) => {
      let end!: (how: 'half-closed' | 'cancelled') => void;
      const seen: Seen = { messages: [], pool: call.metadata.get('x-infergate-inference-pool')[0] as string | undefined, ended: new Promise((r) => (end = r)), call };
      streams.push(seen);
      call.on('data', (m: ProcessingRequest) => {
        seen.messages.push(m);
        script(m, call);
      });
      call.on('end', () => call.end());
      // A cancelled stream ends its reading side too (before `cancelled`): which it was is known once it closed.
      call.on('close', () => end(call.cancelled ? 'cancelled' : 'half-closed'));
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, creds, (e, p) => (e ? reject(e) : resolve(p))));
  return { port, streams, close: () => new Promise<void>((r) => server.tryShutdown(() => r())), kill: () => server.forceShutdown() };
}

/** Answers as GIE's EPP does once the body is complete: the pick (header and envoy.lb), then the body echoed. */
function fullDuplexPick(endpoints: string) {
  return (m: ProcessingRequest, call: Call): void => {
    if (m.request_body?.end_of_stream !== true) return;
    call.write({
      request_headers: { response: { header_mutation: { set_headers: [{ header: { key: 'x-gateway-destination-endpoint', raw_value: Buffer.from(endpoints) } }, { header: { key: 'x-picked-by', raw_value: Buffer.from('scripted') } }] } } },
      dynamic_metadata: toStruct({ 'envoy.lb': { 'x-gateway-destination-endpoint': endpoints } }),
    });
    call.write({ request_body: { response: { body_mutation: { streamed_response: { body: Buffer.from('{"model":"rewritten"}'), end_of_stream: true } } } } });
  };
}

const address = (host: string, port: number, name = 'epp'): PickerAddress => ({ target: `${host}:${port}`, serviceHost: `${name}.llm.svc`, via: 'test' });
const REQUEST: PickerRequest = { method: 'POST', path: '/v1/completions', authority: 'gw', headers: { 'x-request-id': 'r1', 'content-type': 'application/json' }, body: Buffer.from('{"model":"m"}'), subset: ['127.0.90.2:8000', '127.0.90.3:8000'] };
const pickers: ExternalPickers[] = [];
function client(options: Partial<ExternalPickerOptions> = {}): ExternalPickers {
  const p = new ExternalPickers({ plaintext: true, ...options }, createLogger('silent'));
  pickers.push(p);
  return p;
}
after(() => {
  for (const p of pickers) p.close();
});

test('a decision: the EPP sees the request, the hint and the pool; the pick, its header changes and its body come back; the response and the end are reported', async () => {
  const epp = await scriptedEpp('127.0.89.2', fullDuplexPick('127.0.90.3:8000,127.0.90.2:8000'));
  try {
    const exchange = client().open(address('127.0.89.2', epp.port), 'llm/gemma');
    const answer = await exchange.ask(REQUEST);
    assert.equal(answer.kind, 'route');
    if (answer.kind !== 'route') return;
    assert.deepEqual(answer.endpoints, ['127.0.90.3:8000', '127.0.90.2:8000']);
    assert.equal(answer.headers.set.get('x-picked-by'), 'scripted');
    assert.equal(answer.body?.toString(), '{"model":"rewritten"}');

    exchange.responseStarted(200, [Buffer.from('content-type'), Buffer.from('application/json')], '127.0.90.3:8000');
    exchange.end();
    const seen = epp.streams[0]!;
    assert.equal(await seen.ended, 'half-closed');
    assert.equal(seen.pool, 'llm/gemma');
    const [headers, body, response] = seen.messages;
    assert.equal(readHeaderMap(headers!.request_headers!.headers).get(':path'), '/v1/completions');
    assert.deepEqual(fromStruct(headers!.metadata_context!.filter_metadata!['envoy.lb.subset_hint']), { 'x-gateway-destination-endpoint-subset': ['127.0.90.2:8000', '127.0.90.3:8000'] });
    assert.equal(body!.request_body!.body!.toString(), '{"model":"m"}');
    assert.equal(readHeaderMap(response!.response_headers!.headers).get(':status'), '200');
    assert.deepEqual(fromStruct(response!.metadata_context!.filter_metadata!['envoy.lb']), { 'x-gateway-destination-endpoint-served': '127.0.90.3:8000' });
  } finally {
    await epp.close();
  }
});

test('an immediate response comes back as sent, and the stream is half-closed at once', async () => {
  const epp = await scriptedEpp('127.0.89.2', (_m, call) => {
    call.write({ immediate_response: { status: { code: 429 }, body: Buffer.from('shed') } });
  });
  try {
    const answer = await client().open(address('127.0.89.2', epp.port), 'llm/gemma').ask(REQUEST);
    assert.deepEqual(answer, { kind: 'immediate', status: 429, headers: [], body: Buffer.from('shed') });
    assert.equal(await epp.streams[0]!.ended, 'half-closed');
  } finally {
    await epp.close();
  }
});

test('no decision is PickerUnavailable, saying why: unreachable, too slow (the stream is cancelled), failed, ended undecided', async () => {
  const closed = await scriptedEpp('127.0.89.3', () => undefined);
  const port = closed.port;
  await closed.close();
  await assert.rejects(client().open(address('127.0.89.3', port), 'llm/gemma').ask(REQUEST), (e: Error) => e instanceof PickerUnavailable && /^is unavailable \(UNAVAILABLE: /.test(e.message));

  const silent = await scriptedEpp('127.0.89.2', () => undefined);
  try {
    await assert.rejects(client({ messageTimeoutMs: 200 }).open(address('127.0.89.2', silent.port), 'llm/gemma').ask(REQUEST), /^PickerUnavailable: did not decide within 200ms \(--epp-message-timeout\)$/);
    assert.equal(await silent.streams[0]!.ended, 'cancelled');
  } finally {
    await silent.close();
  }

  const failing = await scriptedEpp('127.0.89.2', (_m, call) => call.emit('error', Object.assign(new Error('boom'), { code: 13, details: 'boom' })));
  try {
    await assert.rejects(client().open(address('127.0.89.2', failing.port), 'llm/gemma').ask(REQUEST), /is unavailable \(INTERNAL: boom\)/);
  } finally {
    await failing.close();
  }

  const quitter = await scriptedEpp('127.0.89.2', (_m, call) => call.end());
  try {
    await assert.rejects(client().open(address('127.0.89.2', quitter.port), 'llm/gemma').ask(REQUEST), /ended the stream without deciding/);
  } finally {
    await quitter.close();
  }
});

test('TLS: unverified by default (a self-signed EPP, as GIE serves); with --epp-ca-file, verified for NAME.NAMESPACE.svc', async () => {
  const cert = selfSignedCertificate({ altNames: ['epp.llm.svc'] });
  const creds = ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(cert.cert), private_key: Buffer.from(cert.key) }], false);
  const epp = await scriptedEpp('127.0.89.2', fullDuplexPick('127.0.90.2:8000'), creds);
  try {
    const unverified = await client({ plaintext: false }).open(address('127.0.89.2', epp.port), 'llm/gemma').ask(REQUEST);
    assert.equal(unverified.kind, 'route');
    const verified = await client({ plaintext: false, caPem: cert.cert }).open(address('127.0.89.2', epp.port), 'llm/gemma').ask(REQUEST);
    assert.equal(verified.kind, 'route');
    // The certificate does not name this Service: refused, so the pool's failureMode applies.
    await assert.rejects(client({ plaintext: false, caPem: cert.cert }).open(address('127.0.89.2', epp.port, 'other'), 'llm/gemma').ask(REQUEST), /is unavailable \(UNAVAILABLE: /);
    // A plaintext client cannot talk to it either.
    await assert.rejects(client({ plaintext: true, messageTimeoutMs: 2000 }).open(address('127.0.89.2', epp.port), 'llm/gemma').ask(REQUEST), PickerUnavailable);
  } finally {
    epp.kill();
  }
});

test('retain closes the channels of pickers no pool names; a retained one keeps working', async () => {
  const epp = await scriptedEpp('127.0.89.2', fullDuplexPick('127.0.90.2:8000'));
  try {
    const p = client();
    const a = address('127.0.89.2', epp.port);
    const askAndEnd = async (): Promise<string> => {
      const exchange = p.open(a, 'llm/gemma');
      const answer = await exchange.ask(REQUEST);
      exchange.end();
      return answer.kind;
    };
    assert.equal(await askAndEnd(), 'route');
    p.retain([{ address: a }]);
    assert.equal(await askAndEnd(), 'route');
    p.retain([]);
    // A new channel is made on the next use.
    assert.equal(await askAndEnd(), 'route');
    assert.equal(epp.streams.length, 3);
  } finally {
    await epp.close();
  }
});

test("the answer to the response headers: its changes come back; no answer in time, a failed stream, an answer outside the protocol or the request ending first leave the answer unchanged, saying why (or nothing when nobody waits)", async () => {
  /** Picks as GIE's EPP does, then answers the response headers with `onResponse`. */
  const epp = (onResponse: (call: Call) => void) =>
    scriptedEpp('127.0.89.2', (m, call) => {
      if (m.response_headers) onResponse(call);
      else fullDuplexPick('127.0.90.3:8000')(m, call);
    });
  const HEADERS = [Buffer.from('content-type'), Buffer.from('application/json')];
  const answered = async (onResponse: (call: Call) => void, timeoutMs = 10_000, between?: (x: ReturnType<ExternalPickers['open']>) => void) => {
    const e = await epp(onResponse);
    try {
      const exchange = client({ messageTimeoutMs: timeoutMs }).open(address('127.0.89.2', e.port), 'llm/gemma');
      assert.equal((await exchange.ask(REQUEST)).kind, 'route');
      const pending = exchange.responseStarted(200, HEADERS, '127.0.90.3:8000');
      between?.(exchange);
      const changes = await pending;
      exchange.end();
      return { changes, ended: await e.streams[0]!.ended };
    } finally {
      await e.close();
    }
  };

  const set = await answered((call) => call.write({ response_headers: { response: { header_mutation: { set_headers: [{ header: { key: 'X-Session-Token', raw_value: Buffer.from('t1') } }], remove_headers: ['server'] } } } }));
  assert.deepEqual(set.changes, { kind: 'headers', set: [{ name: 'x-session-token', value: 't1', action: undefined }], remove: ['server'] });
  assert.equal(set.ended, 'half-closed');

  const silent = await answered(() => undefined, 200);
  assert.deepEqual(silent.changes, { kind: 'unchanged', why: 'did not answer the response headers within 200ms (--epp-message-timeout)' });

  const failed = await answered((call) => call.emit('error', Object.assign(new Error('boom'), { code: 13, details: 'boom' })));
  assert.deepEqual(failed.changes, { kind: 'unchanged', why: 'failed before answering the response headers (INTERNAL: boom)' });

  const outside = await answered((call) => call.write({ response_body: { response: {} } }));
  assert.deepEqual(outside.changes, { kind: 'unchanged', why: 'answered response_body where the answer to the response headers was expected' });

  // The request ends (the client left) while the answer is awaited: nothing to report, and the stream is half-closed.
  // Settled by the end, not the 10 s message timeout: that would have resolved with its reason.
  const ended = await answered(() => undefined, 10_000, (exchange) => exchange.end());
  assert.deepEqual(ended.changes, { kind: 'unchanged' });
  assert.equal(ended.ended, 'half-closed');
});
