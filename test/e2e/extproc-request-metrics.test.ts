/**
 * The endpoint picker's request series (llm-d's `llm_d_epp_request_*`) for a known load replayed as Envoy sends
 * it over real gRPC (FULL_DUPLEX_STREAMED both ways, as deploy/envoy configures the picker): exact counts for a
 * whole answer, streams with and without `include_usage`, a refusal, the model server's error and a stream the
 * client left mid-way. One simulated vLLM pod on 127.0.176.x; no Envoy binary runs.
 */
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ExtProcClient, requestBody, requestHeaders, responseBody, responseHeaders } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { CHAT, FULL_DUPLEX } from '../helpers/extproc-epp.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'meta/llama';
let fleet: Fleet;
let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;

before(async () => {
  fleet = await startFleet(176, [{ name: 'llama-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 }]);
  cfg = await tempConfig({
    'all.yaml': [
      podYaml('llama-0', fleet.ipOf('llama-0'), { model: 'llama' }),
      poolYaml('llama', { model: 'llama' }, fleet.port),
      baseModelRouteYaml('llama', MODEL, [['llama', 1]]),
      allowlistYaml('other', 'unrouted/model', []),
    ].join('---\n'),
  });
  xp = await startTestExtproc({ configPath: cfg.dir, host: '127.0.176.1' });
  client = new ExtProcClient(`127.0.176.1:${xp.ports.epp}`);
  const endpoint = `${fleet.ipOf('llama-0')}:${fleet.port}`;
  assert.ok(await waitFor(() => xp.gateway.datastore.endpoint(endpoint)?.models?.has(MODEL) === true), 'the pod was not discovered');
});

after(async () => {
  client?.close();
  await xp?.close();
  await fleet?.close();
  await cfg?.remove();
});

const chat = (model: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });
const event = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
const USAGE = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
const WHOLE = JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'abc' }, finish_reason: 'stop' }], usage: USAGE });
/** vLLM's stream: the role, two tokens, the finish, the usage chunk when asked, then [DONE]. */
const stream = (usage: boolean): string[] => [
  event({ choices: [{ delta: { role: 'assistant', content: '' } }] }),
  event({ choices: [{ delta: { content: 'a' } }] }),
  event({ choices: [{ delta: { content: 'b' } }] }),
  event({ choices: [{ delta: {}, finish_reason: 'stop' }] }),
  ...(usage ? [event({ choices: [], usage: USAGE })] : []),
  'data: [DONE]\n\n',
];

/**
 * One request as Envoy plays it: headers and body, the pick, then the pod's response headers and body chunks,
 * and the stream's end. `abortBeforeLast`: the client leaves before the last chunk, and Envoy closes the stream
 * (`half-close`, as its filter does when the HTTP stream is destroyed) or resets it (`cancel`).
 */
async function exchange(body: string, response?: { status: string; contentType: string; chunks: string[]; abortBeforeLast?: 'half-close' | 'cancel' }): Promise<void> {
  const s = client.open();
  s.send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(body, true));
  const first = await s.next();
  if (first.immediate_response || !response) {
    assert.ok(first.immediate_response, 'a refusal was expected');
    await s.status;
    return;
  }
  await s.next(); // the body, sent on
  s.send(responseHeaders({ ':status': response.status, 'content-type': response.contentType }, false));
  await s.next();
  for (const [i, c] of response.chunks.entries()) {
    const last = i === response.chunks.length - 1;
    if (last && response.abortBeforeLast) {
      if (response.abortBeforeLast === 'cancel') s.cancel();
      else s.end();
      await s.status;
      return;
    }
    s.send(responseBody(c, last));
    await s.next();
  }
  s.end();
  await s.status;
}

/** The value of the one series of `name` whose labels include all of `labels`; 0 when there is none. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let found: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    assert.equal(found, undefined, `more than one series of ${name} with ${JSON.stringify(labels)}`);
    found = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found ?? 0;
}

test('a known load counts exactly in the request series, as llm-d counts it at the end of each response', async () => {
  const sse = 'text/event-stream';
  await exchange(chat(MODEL), { status: '200', contentType: 'application/json', chunks: [WHOLE] });
  await exchange(chat(MODEL, { stream: true, stream_options: { include_usage: true } }), { status: '200', contentType: sse, chunks: stream(true) });
  await exchange(chat(MODEL, { stream: true }), { status: '200', contentType: sse, chunks: stream(false) });
  await exchange(chat('no/such-model'));
  await exchange(chat('unrouted/model'));
  await exchange(chat(MODEL), { status: '503', contentType: 'application/json', chunks: ['{"error":{"message":"overloaded"}}'] });
  await exchange(chat(MODEL, { stream: true }), { status: '200', contentType: sse, chunks: stream(false), abortBeforeLast: 'cancel' });
  await exchange(chat(MODEL, { stream: true }), { status: '200', contentType: sse, chunks: stream(false), abortBeforeLast: 'half-close' });
  const url = `http://127.0.176.1:${xp.ports.admin}/metrics`;
  // The aborted stream's end reaches the picker as the gRPC stream closes: wait until it is no longer running.
  assert.ok(await waitFor(async () => value(await (await fetch(url)).text(), 'llm_d_epp_request_running', { model_name: MODEL }) === 0));
  const text = await (await fetch(url)).text();
  const m = { model_name: MODEL };

  // Scheduled: three answers, the model server's 503 and the two streams the client left; the refusals only as errors.
  assert.equal(value(text, 'llm_d_epp_request_total', m), 6);
  assert.equal(value(text, 'llm_d_epp_request_error_total', { ...m, error_code: 'ModelServerError' }), 1);
  assert.equal(value(text, 'llm_d_epp_request_error_total', { model_name: 'no/such-model', error_code: 'NotFound' }), 1);
  assert.equal(value(text, 'llm_d_epp_request_error_total', { model_name: 'unrouted/model', error_code: 'NotFound' }), 1);
  // Every scheduled request's body, at the pick (as llm-d records it beside request_total).
  assert.equal(value(text, 'llm_d_epp_request_size_bytes_count', m), 6);
  const sizes = [chat(MODEL), chat(MODEL, { stream: true, stream_options: { include_usage: true } }), chat(MODEL, { stream: true }), chat(MODEL), chat(MODEL, { stream: true }), chat(MODEL, { stream: true })];
  assert.equal(value(text, 'llm_d_epp_request_size_bytes_sum', m), sizes.reduce((n, b) => n + Buffer.byteLength(b), 0));
  // Complete answers only (the 503's included): not the streams the client left.
  assert.equal(value(text, 'llm_d_epp_request_duration_seconds_count', m), 4);
  assert.equal(value(text, 'llm_d_epp_response_size_bytes_count', m), 4);
  const bytes = Buffer.byteLength(WHOLE) + stream(true).join('').length + stream(false).join('').length + '{"error":{"message":"overloaded"}}'.length;
  assert.equal(value(text, 'llm_d_epp_response_size_bytes_sum', m), bytes);
  // Usage: the whole answer and the stream that asked for it.
  assert.equal(value(text, 'llm_d_epp_request_input_tokens_count', m), 2);
  assert.equal(value(text, 'llm_d_epp_request_input_tokens_sum', m), 14);
  assert.equal(value(text, 'llm_d_epp_request_output_tokens_sum', m), 6);
  assert.equal(value(text, 'llm_d_epp_request_ntpot_seconds_count', m), 2);
  // TTFT: the whole answer (streaming="false"), both complete streams; TPOT: the stream with usage.
  assert.equal(value(text, 'llm_d_epp_request_ttft_seconds_count', { ...m, streaming: 'false' }), 1);
  assert.equal(value(text, 'llm_d_epp_request_ttft_seconds_count', { ...m, streaming: 'true' }), 2);
  assert.equal(value(text, 'llm_d_epp_request_streaming_tpot_seconds_count', m), 1);
  // Gaps between token chunks, as they came: 4 + 3, and 3 in each stream before the client left (llm-d observes
  // them chunk by chunk).
  assert.equal(value(text, 'llm_d_epp_request_streaming_itl_seconds_count', m), 13);
  // The picker's own time on each response that reached it, aborted or not (llm-d records both).
  assert.equal(value(text, 'llm_d_epp_response_processing_duration_seconds_count'), 6);
  assert.ok(value(text, 'llm_d_epp_response_processing_duration_seconds_sum') > 0);
  // llm-d's ext_proc stream series: every stream, closed. grpc-js hands the server a reset as a half-close first,
  // so the stream Envoy reset may count as OK rather than Canceled: the two together are exact.
  assert.equal(value(text, 'llm_d_epp_extproc_streams_total', { code: 'OK' }) + value(text, 'llm_d_epp_extproc_streams_total', { code: 'Canceled' }), 8);
  assert.equal(value(text, 'llm_d_epp_extproc_stream_duration_seconds_count'), 8);
  assert.equal(value(text, 'llm_d_epp_extproc_streams_inflight'), 0);
  // GIE's twins hold the same counts.
  assert.equal(value(text, 'inference_objective_request_total', m), 6);
  assert.equal(value(text, 'inference_objective_input_tokens_sum', m), 14);
});

test('a request is timed from its headers, as llm-d\'s EPP times it: a body slow to arrive counts in its duration', async () => {
  const url = `http://127.0.176.1:${xp.ports.admin}/metrics`;
  const before = await (await fetch(url)).text();
  const model = { model_name: MODEL };
  const processing = value(before, 'llm_d_epp_request_processing_duration_seconds_sum');
  const duration = value(before, 'llm_d_epp_request_duration_seconds_sum', model);
  const s = client.open();
  s.send(requestHeaders(CHAT, false, FULL_DUPLEX));
  const gapMs = 300;
  await new Promise((resolve) => setTimeout(resolve, gapMs));
  s.send(requestBody(chat(MODEL), true));
  await s.next();
  await s.next();
  s.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' }, false));
  await s.next();
  s.send(responseBody(WHOLE, true));
  await s.next();
  s.end();
  await s.status;
  const after = await (await fetch(url)).text();
  // The wait between the headers and the body is part of both. A lower bound, with a margin: a timer may fire a
  // few milliseconds before its delay as a clock read after the loop's cached time sees it.
  const least = (gapMs - 50) / 1000;
  assert.ok(value(after, 'llm_d_epp_request_processing_duration_seconds_sum') - processing >= least);
  assert.ok(value(after, 'llm_d_epp_request_duration_seconds_sum', model) - duration >= least);
});

test("a stream the picker fails ends with its gRPC status, named as llm-d's EPP names it", async () => {
  const s = client.open();
  // STREAMED would let the headers go upstream before the body was read: refused with FAILED_PRECONDITION.
  s.send(requestHeaders(CHAT, false, { protocol: { request: 'STREAMED', response: 'NONE' } }));
  const st = await s.status;
  assert.equal(st.code, status.FAILED_PRECONDITION);
  const text = await (await fetch(`http://127.0.176.1:${xp.ports.admin}/metrics`)).text();
  assert.equal(value(text, 'llm_d_epp_extproc_streams_total', { code: 'FailedPrecondition' }), 1);
});

test("promtool check metrics finds nothing on extproc's /metrics but its lint on llm-d's llm_d_ prefix", async () => {
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  assert.ok(which.status === 0 && which.stdout.trim() !== '', "promtool is not installed: install Debian's prometheus package (apt-get install -y prometheus)");
  // After the load above, so every request, stream and flow family has samples.
  const text = await (await fetch(`http://127.0.176.1:${xp.ports.admin}/metrics`)).text();
  const lint = spawnSync(which.stdout.trim(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
  const problems = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
  assert.deepEqual(problems.filter((l) => !/^llm_d_\S+ metric names should not contain abbreviated units$/.test(l)), [], 'promtool check metrics');
  assert.ok(problems.length > 0, 'promtool reports the llm_d_ prefix (a sign it ran)');
});

test('response_body_mode NONE: the answer ends when Envoy closes the stream after its headers; timed, its unseen size not observed as 0', async () => {
  const url = `http://127.0.176.1:${xp.ports.admin}/metrics`;
  const m = { model_name: MODEL };
  const before = await (await fetch(url)).text();
  const s = client.open();
  s.send(requestHeaders(CHAT, false, { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'NONE' } }), requestBody(chat(MODEL), true));
  await s.next();
  await s.next();
  s.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' }, false));
  await s.next();
  s.end();
  await s.status;
  const after = await (await fetch(url)).text();
  const delta = (name: string, labels: Record<string, string> = m): number => value(after, name, labels) - value(before, name, labels);
  assert.equal(delta('llm_d_epp_request_total'), 1);
  assert.equal(delta('llm_d_epp_request_duration_seconds_count'), 1);
  assert.equal(delta('llm_d_epp_request_ttft_seconds_count', { ...m, streaming: 'false' }), 1);
  assert.equal(delta('llm_d_epp_response_size_bytes_count'), 0);
});

test('a compressed answer (content-encoding: gzip, an Envoy compressor ahead of the picker): counted and timed, its compressed size observed, no token, usage or stream TTFT read from it', async () => {
  const url = `http://127.0.176.1:${xp.ports.admin}/metrics`;
  const m = { model_name: MODEL };
  const before = await (await fetch(url)).text();
  const s = client.open();
  s.send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(MODEL, { stream: true, stream_options: { include_usage: true } }), true));
  await s.next();
  await s.next();
  const body = gzipSync(stream(true).join(''));
  s.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream', 'content-encoding': 'gzip' }, false), responseBody(body, true));
  await s.next();
  await s.next();
  s.end();
  await s.status;
  const after = await (await fetch(url)).text();
  const delta = (name: string, labels: Record<string, string> = m): number => value(after, name, labels) - value(before, name, labels);
  assert.equal(delta('llm_d_epp_request_total'), 1);
  assert.equal(delta('llm_d_epp_request_duration_seconds_count'), 1);
  assert.equal(delta('llm_d_epp_response_size_bytes_sum'), body.length, 'the bytes that passed, compressed');
  assert.equal(delta('llm_d_epp_request_ttft_seconds_count', { ...m, streaming: 'true' }), 0, 'no token event can be told in compressed bytes');
  assert.equal(delta('llm_d_epp_request_input_tokens_count'), 0, 'its usage cannot be read: no token count, rather than a wrong one');
  assert.equal(delta('llm_d_epp_request_output_tokens_count'), 0);
  assert.equal(delta('llm_d_epp_request_error_total', { ...m, error_code: 'ModelServerError' }), 0);
});
