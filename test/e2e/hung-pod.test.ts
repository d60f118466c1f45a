/**
 * A pod that accepts requests and never answers, while its /v1/models and /metrics look idle: the client gets
 * a clear error after the (short) header timeout instead of 10 minutes; beside a healthy pod it stops getting
 * requests after one or two and is ejected; slow streams live on, stalled ones are cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { APIError } from 'openai';
import type { RunningGateway, StartGatewayOptions } from '../../src/cli/start-gateway.js';
import { startHungPod, type HungPod } from '../../src/upstream/hung-pod.js';
import { unreportedRequests } from '../../src/upstream/in-flight.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type Replica } from '../helpers/fleet.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const POOL = 'default/llama';
const HUNG_IP = (octet: number): string => `127.0.${octet}.9`;

interface Setup {
  fleet: Fleet;
  hung: HungPod | undefined;
  gw: RunningGateway;
  client: OpenAI;
}

/**
 * Simulated `replicas` on 127.0.<octet>.2.., plus (unless `hung` is false) a hung pod on 127.0.<octet>.9 on the
 * same port, all in pool `llama`, whose annotations are `annotations`; then runs `body` and closes everything.
 */
async function withHungPod(
  octet: number,
  replicas: readonly Replica[],
  opts: { hung?: false | { stallAfterHeaders?: boolean }; annotations?: Record<string, string>; gateway?: Partial<StartGatewayOptions> },
  body: (s: Setup) => Promise<void>,
): Promise<void> {
  // A fleet needs one simulator to own the port; with none asked for, an unused one holds it.
  const fleet = await startFleet(octet, replicas.length > 0 ? replicas : [{ name: 'port-holder', labels: {}, model: MODEL }]);
  const hung = opts.hung === false ? undefined : await startHungPod({ host: HUNG_IP(octet), port: fleet.port, model: MODEL, ...opts.hung });
  const pool = poolYaml('llama', { app: 'llama' }, fleet.port).replace(
    'metadata:\n',
    `metadata:\n  annotations:\n${Object.entries(opts.annotations ?? {}).map(([k, v]) => `    ${k}: "${v}"\n`).join('')}`,
  );
  const docs = [
    ...replicas.map((r) => podYaml(r.name, fleet.ipOf(r.name), { app: 'llama' })),
    ...(hung ? [podYaml('hung-0', hung.host, { app: 'llama' })] : []),
    pool,
    baseModelRouteYaml('llama', MODEL, [['llama', 1]]),
  ];
  const cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  const gw = await startTestGateway(cfg.dir, opts.gateway ?? {});
  try {
    await body({ fleet, hung, gw, client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 }) });
  } finally {
    await gw.close();
    await hung?.close();
    await fleet.close();
    await cfg.remove();
  }
}

async function apiError(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof APIError) return e;
    throw e;
  }
  assert.fail('the request succeeded');
}

const chat = (content: string): { model: string; messages: { role: 'user'; content: string }[]; max_tokens: number } => ({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 3 });

test('a hung pod alone: the client gets 504 upstream_timeout after the header timeout, streamed or not', { timeout: 30_000 }, () =>
  withHungPod(62, [], { annotations: { 'infergate.io/stream-headers-timeout': '400ms', 'infergate.io/response-headers-timeout': '800ms' } }, async ({ client, hung }) => {
    const streamed = await apiError(client.chat.completions.create({ ...chat('hello'), stream: true }));
    assert.equal(streamed.status, 504);
    assert.equal(streamed.code, 'upstream_timeout');
    assert.match(streamed.message, /no endpoint of InferencePool default\/llama answered in time after 1 attempt\(s\): 127\.0\.62\.9:\d+: no response headers within 400ms \(stream-headers-timeout\)/);
    const whole = await apiError(client.chat.completions.create(chat('hello')));
    assert.equal(whole.status, 504);
    assert.match(whole.message, /no response within 800ms \(response-headers-timeout\)/);
    assert.equal(hung!.held(), 2, 'each request reached the pod once: a pool of one has nowhere else to go');
  }));

test('a hung pod beside a healthy one: once it holds a request it gets no more, 20 concurrent requests all succeed, and it is ejected', { timeout: 60_000 }, () =>
  withHungPod(
    62,
    [{ name: 'llama-0', labels: {}, model: MODEL, ttftMs: 5, itlMs: 5 }],
    { gateway: { timeouts: { streamHeadersMs: 6000 }, outlierDetection: { consecutiveGatewayFailure: 2 } } },
    async ({ client, hung, gw }) => {
      // A shared system prompt, as chat applications send: prefix affinity must not pull traffic to the hung pod.
      const system = 'You are a helpful assistant who answers in one short sentence. '.repeat(20);
      const ask = async (i: number, shared = true): Promise<string> => {
        const messages = shared ? [{ role: 'system' as const, content: system }, { role: 'user' as const, content: `question ${i}` }] : [{ role: 'user' as const, content: `question ${i}` }];
        const { data, response } = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 3, stream: true }).withResponse();
        for await (const _ of data) void _;
        return response.headers.get('x-inference-pod') ?? '?';
      };
      const ep = gw.gateway.datastore.endpoint(`${hung!.host}:${hung!.port}`)!;
      // One request at a time until one lands on the hung pod: both look idle, so the first picks are a coin toss.
      const first: Promise<string>[] = [];
      for (let i = 0; i < 20 && hung!.held() === 0; i++) {
        const p = ask(i, i % 2 === 0);
        first.push(p);
        await Promise.race([p, waitFor(() => hung!.held() > 0, 2000)]);
      }
      assert.equal(hung!.held(), 1, 'one request reached the hung pod');
      // Its /metrics still say idle: within about a second the gateway knows the pod holds a request it does not count.
      assert.ok(await waitFor(() => unreportedRequests(ep) === 1, 3000), 'the pod does not report the request it holds');
      const served = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(100 + i, i % 2 === 0)));
      assert.deepEqual(new Set(served), new Set(['llama-0']), 'all 20 answered by the healthy pod, long before any timeout');
      assert.equal(hung!.held(), 1, 'the hung pod got none of the 20');
      // The request it holds times out (6 s) and fails over to the healthy pod.
      assert.deepEqual(new Set(await Promise.all(first)), new Set(['llama-0']));
      // Each request it takes again times out and fails over; at the second failure in a row it is ejected.
      let i = 200;
      const ejected = await waitFor(async () => {
        assert.equal(await ask(i++, false), 'llama-0');
        return ep.outlier.isEjected(Date.now());
      }, 30_000);
      assert.ok(ejected, `not ejected: ${JSON.stringify(ep.outlier)}`);
      const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { details?: { ejected?: { endpoint: string; type: string; reason: string }[] } };
      assert.deepEqual(
        ready.details?.ejected?.map((e) => [e.endpoint, e.type]),
        [[ep.address, 'consecutive_gateway_failure']],
      );
      assert.match(ready.details!.ejected![0]!.reason, /2 gateway failures in a row; last: UND_ERR_HEADERS_TIMEOUT/);
      const before = hung!.held();
      await Promise.all(Array.from({ length: 10 }, (_, k) => ask(1000 + k, false)));
      assert.equal(hung!.held(), before, 'an ejected pod gets nothing while another can serve');
      assert.equal(ep.inFlight, 0);
    },
  ));

test('a slow stream that is alive is not cut by the header timeout', { timeout: 30_000 }, () =>
  withHungPod(
    62,
    // The first token comes 1.5 s after the request, three times the stream header timeout: vLLM answers the headers at once.
    [{ name: 'slow-0', labels: {}, model: MODEL, ttftMs: 1500, itlMs: 50 }],
    { hung: false, annotations: { 'infergate.io/stream-headers-timeout': '500ms' } },
    async ({ client }) => {
      const stream = await client.chat.completions.create({ ...chat('take your time'), max_tokens: 5, stream: true });
      let chunks = 0;
      for await (const c of stream) if (c.choices[0]?.delta.content) chunks++;
      assert.equal(chunks, 5);
    },
  ));

test('the idle timeout cuts a stream that stalls after its headers, and counts against the pod', { timeout: 30_000 }, () =>
  withHungPod(63, [], { hung: { stallAfterHeaders: true }, annotations: { 'infergate.io/stream-idle-timeout': '600ms' } }, async ({ client, hung, gw }) => {
    const stream = await client.chat.completions.create({ ...chat('hello'), stream: true });
    let chunks = 0;
    await assert.rejects(async () => {
      for await (const _ of stream) chunks++;
    });
    assert.equal(chunks, 1, 'the role chunk arrived before the stall');
    const ep = gw.gateway.datastore.endpoint(`${hung!.host}:${hung!.port}`)!;
    // The client may see its stream end before the gateway has judged the attempt.
    assert.ok(await waitFor(() => ep.inFlight === 0, 2000));
    assert.equal(ep.outlier.lastFailure, 'UND_ERR_BODY_TIMEOUT');
    assert.equal(ep.outlier.consecutiveGatewayFailures, 1);
    assert.equal(ep.inFlight, 0);
    assert.equal(ep.unanswered, 0);
  }));

test('the total upstream timeout is off by default; set on a pool it bounds the whole request', { timeout: 30_000 }, async () => {
  const replicas: Replica[] = [{ name: 'long-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 100 }];
  await withHungPod(63, replicas, { hung: false }, async ({ client, gw }) => {
    assert.equal(gw.gateway.upstream.policies.forPool(POOL).timeouts.upstreamMs, 0);
    // 15 tokens at 100 ms: a stream of 1.5 s, longer than the limit set below, runs to its end.
    const stream = await client.chat.completions.create({ ...chat('go on'), max_tokens: 15, stream: true });
    let chunks = 0;
    for await (const c of stream) if (c.choices[0]?.delta.content) chunks++;
    assert.equal(chunks, 15);
  });
  await withHungPod(63, replicas, { hung: false, annotations: { 'infergate.io/upstream-timeout': '700ms' } }, async ({ client }) => {
    const stream = await client.chat.completions.create({ ...chat('go on'), max_tokens: 15, stream: true });
    let chunks = 0;
    await assert.rejects(async () => {
      for await (const c of stream) if (c.choices[0]?.delta.content) chunks++;
    });
    assert.ok(chunks > 0 && chunks < 15, `cut mid-stream after ${chunks} chunks`);
  });
  await withHungPod(63, [], { annotations: { 'infergate.io/upstream-timeout': '700ms' } }, async ({ client }) => {
    const e = await apiError(client.chat.completions.create(chat('hello')));
    assert.equal(e.status, 504);
    assert.match(e.message, /within its upstream timeout of 700ms .*infergate\.io\/upstream-timeout/);
  });
});
