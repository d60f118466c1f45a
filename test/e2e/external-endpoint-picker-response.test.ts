/**
 * `serve` in front of a scripted external endpoint picker (test/helpers/external-pickers.ts): its answer to the
 * endpoint's response headers, as Envoy applies it. Its changes reach the client, whole and streamed, over
 * HTTP/1.1 and h2c; its immediate response replaces the answer; no answer in time passes it unchanged; the
 * gateway's own headers stay; failures while the answer is held get OpenAI errors; metrics and traces say what
 * the picker did. Pods on 127.0.90.x, pickers, gateways and the OTLP receiver on 127.0.89.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { createLogger } from '../../src/logger.js';
import { startSimulator } from '../../src/sim/simulator.js';
import { baseModelRouteYaml, podYaml, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';
import { FLAKY_POD, H2C_POD, SERVED, eppService, fleetDocs, pool, scriptedEpp, twoPoolFleet } from '../helpers/external-pickers.js';
import { failure } from '../helpers/openai-failure.js';

/** The flaky pod: every completion cut after its headers. */
function flakyPod(port: number): Promise<ScriptedPod> {
  return startScriptedPod({
    host: FLAKY_POD,
    port,
    model: 'model/flaky',
    paths: {
      '/v1/completions': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 50);
      },
    },
  });
}

test("a scripted EPP's answer to the response headers: its changes reach the client (streams too), an immediate response replaces the answer, no answer in time passes it unchanged, the gateway's own headers stay", async () => {
  const fleet = await twoPoolFleet();
  const epp = await scriptedEpp(fleet, `127.0.90.9:${fleet.port}`);
  // A pool speaking h2c to its pod, picked by the same EPP: the held answer over undici's HTTP/2 client.
  const h2cPod = await startSimulator({ host: H2C_POD, port: fleet.port, model: 'model/h2c', ttftMs: 0, itlMs: 1, h2c: true, podName: 'h2c-0' });
  const flaky = await flakyPod(fleet.port);
  const picked = { port: epp.port, failureMode: 'FailClose' as const };
  const flakyPool = pool('flaky', fleet.port, picked);
  const h2cPool = pool('h2', fleet.port, picked, { appProtocol: 'kubernetes.io/h2c' });
  // The closed pods again, as a pool with a 150 ms upstream timeout, for requests that ask for it by header (two
  // header matches outrank the model route's one).
  const latePool = `${pool('late', fleet.port, picked, { selects: 'closed', annotations: 'infergate.io/upstream-timeout: 150ms' })}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: late}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /}, headers: [{type: Exact, name: X-Gateway-Base-Model-Name, value: model/closed}, {type: Exact, name: x-script, value: mute-deadline}]}]
      backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: late}]
`;
  const cfg = await tempConfig({ 'all.yaml': [...fleetDocs(fleet, { port: epp.port }), eppService('127.0.89.3', epp.port), podYaml('h2c-0', H2C_POD, { pool: 'h2' }), h2cPool, baseModelRouteYaml('h2', 'model/h2c', [['h2', 1]]), latePool, podYaml('flaky-0', FLAKY_POD, { pool: 'flaky' }), flakyPool, baseModelRouteYaml('flaky', 'model/flaky', [['flaky', 1]])].join('---\n') });
  const lines: string[] = [];
  // Traces show each attempt as the endpoint answered it, a replaced answer included.
  const receiver = await startOtlpReceiver('127.0.89.5');
  const gw = await startTestGateway(cfg.dir, {
    host: '127.0.89.1',
    eppServiceName: 'infergate',
    // Long enough for a loaded machine's picker round trip: at 300 ms the exchanges that must be answered timed out.
    externalPickers: { plaintext: true, messageTimeoutMs: 2000 },
    log: createLogger('info', (l) => lines.push(l)),
    tracing: { url: `${receiver.url}/v1/traces`, source: 'test', scheduleDelayMs: 60_000 },
  });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const live = `${fleet.ipOf('closed-1')}:${fleet.port}`;
    const ask = (script: string) => client.completions.create({ model: 'model/closed', prompt: 'Write as if you were a critic: San Francisco', max_tokens: 3 }, { headers: { 'x-script': script, 'x-request-id': `req-${script}` } }).withResponse();

    // Set, overwritten, added if absent, removed: as Envoy applies a header mutation to the response.
    const changed = await ask('route');
    assert.equal(changed.response.status, 200);
    assert.equal(changed.response.headers.get('x-conformance-test-served-endpoint'), live, "GIE's conformance header, from the EPP");
    assert.equal(changed.response.headers.get('x-session-token'), `token-for-${live}`);
    assert.equal(changed.response.headers.get('x-upstream-status'), '200', 'the EPP saw the status in :status');
    assert.equal(changed.response.headers.get('content-type'), 'application/json', 'a header the EPP sent back unchanged replaces, as in Envoy: not twice');
    assert.equal(changed.response.headers.get('x-inference-pod'), null, 'removed by the EPP');
    assert.equal(changed.response.headers.get(SERVED), live);
    assert.equal(changed.response.headers.get('x-request-id'), 'req-route');
    assert.equal(changed.data.choices.length, 1);

    // Over h2c (undici's HTTP/2 client pauses the stream instead of the parser): changed, whole and streamed.
    const h2 = `${H2C_POD}:${fleet.port}`;
    const overH2 = await client.completions.create({ model: 'model/h2c', prompt: 'hello', max_tokens: 3 }, { headers: { 'x-script': 'h2c' } }).withResponse();
    assert.equal(overH2.response.headers.get('x-conformance-test-served-endpoint'), h2);
    assert.equal(overH2.response.headers.get('x-inference-pod'), null);
    assert.equal(overH2.data.choices.length, 1);
    const h2Stream = await client.chat.completions.create({ model: 'model/h2c', messages: [{ role: 'user', content: 'count' }], max_tokens: 6, stream: true }, { headers: { 'x-script': 'h2c' } });
    let h2Chunks = 0;
    for await (const c of h2Stream) if (c.choices[0]?.delta?.content) h2Chunks++;
    assert.ok(h2Chunks >= 6, `${h2Chunks} content chunks over h2c`);

    // A stream waits for the EPP's answer too, then flows whole.
    const { data: stream, response: streamed } = await client.chat.completions
      .create({ model: 'model/closed', messages: [{ role: 'user', content: 'count to five' }], max_tokens: 5, stream: true }, { headers: { 'x-script': 'route' } })
      .withResponse();
    assert.equal(streamed.headers.get('x-conformance-test-served-endpoint'), live);
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream; charset=utf-8', 'once');
    let chunks = 0;
    let finish: string | null | undefined;
    for await (const c of stream) {
      chunks++;
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(chunks >= 5, `${chunks} chunks`);
    assert.equal(finish, 'length');

    // The client leaves while the EPP is asked: nothing more is written, the exchange ends, and no one is told the
    // answer went unchanged (nobody was waiting for it).
    const before = lines.length;
    const ac = new AbortController();
    const leaving = client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'mute-response' }, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(leaving, /abort/i);
    await epp.streams.at(-1)!.ended;
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(lines.slice(before).filter((l) => l.includes('WARN') || l.includes('ERROR')), []);

    // A picker that asks (mode_override) not to get the response headers is not sent them, and nothing waits.
    const skipped = await ask('skip-response');
    assert.equal(skipped.response.headers.get('x-conformance-test-served-endpoint'), null);
    assert.equal(skipped.response.headers.get('x-inference-pod'), 'closed-1');
    await epp.streams.at(-1)!.ended;
    assert.deepEqual(epp.streams.at(-1)!.messages.map((m) => m.request), ['request_headers', 'request_body'], 'no response_headers sent');

    // No answer within the message timeout: the endpoint's answer passes as it came, and the gateway says why.
    const muted = await ask('mute-response');
    assert.equal(muted.response.status, 200);
    assert.equal(muted.response.headers.get('x-conformance-test-served-endpoint'), null);
    assert.equal(muted.response.headers.get('x-inference-pod'), 'closed-1', "the pod's own header, which the EPP removes when it answers");
    assert.equal(muted.data.choices.length, 1);
    assert.ok(lines.some((l) => l.includes('the endpoint picker of InferencePool default/closed') && l.includes('did not answer the response headers within 2s (--epp-message-timeout); the answer went to the client unchanged')), lines.join('\n'));

    // The pool's upstream timeout passes while the answer is held: nothing reached the client, so it gets the 504
    // of a request not answered in time (not a cut connection), and the endpoint is not tried again.
    const late = await failure(ask('mute-deadline'));
    assert.equal(late.status, 504);
    assert.equal(late.code, 'upstream_timeout');
    assert.match(late.message, /no answer from InferencePool default\/late within its upstream timeout of 150ms \(attempts: 127\.0\.90\.\d+:\d+: answered, cut at the deadline before its headers went out\)/);

    // The endpoint drops its connection while its answer is held: nothing reached the client, so it gets a 502
    // naming the endpoint, and the gateway serves on.
    const dropped = await failure(client.completions.create({ model: 'model/flaky', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'flaky' } }));
    assert.equal(dropped.status, 502);
    assert.equal(dropped.code, 'upstream_unavailable');
    assert.match(dropped.message, new RegExp(`endpoint ${FLAKY_POD.replace(/\./g, '\\.')}:\\d+ \\(pod default/flaky-0\\) failed`));

    // An immediate response replaces the answer: its status, its text wrapped as an OpenAI error.
    const replaced = await failure(ask('replace-response'));
    assert.equal(replaced.status, 503);
    assert.equal(replaced.code, 'endpoint_picker_rejected');
    assert.match(replaced.message, /the endpoint picker of InferencePool default\/closed \(default\/ext-epp\) refused the request with 503: endpoint went away mid-answer/);
    assert.equal(replaced.headers?.get('x-request-id'), 'req-replace-response');
    await gw.tracing!.flush();
    const isReplaced = (x: ReceivedSpan): boolean => x.kind === 'SERVER' && x.attributes['infergate.request_id'] === 'req-replace-response';
    assert.ok(await waitFor(() => receiver.spans.some(isReplaced)), 'the request span arrived');
    const root = receiver.spans.find(isReplaced)!;
    assert.equal(root.attributes['http.response.status_code'], 503);
    const attempt = receiver.spans.find((x) => x.kind === 'CLIENT' && x.parentSpanId === root.spanId)!;
    assert.equal(attempt.attributes['http.response.status_code'], 200, "the endpoint's own answer");
    assert.equal(attempt.attributes['error.type'], undefined, 'not the abort that dropped it');

    // A status it may set; the body's framing, the request id and a value Node cannot write it may not.
    const owned = await ask('owned');
    assert.equal(owned.response.status, 203);
    assert.equal(owned.response.headers.get('x-request-id'), 'req-owned');
    assert.equal(owned.response.headers.get('x-kept'), 'yes');
    assert.equal(owned.response.headers.get('x-bad'), null);
    assert.equal(owned.data.choices.length, 1, 'the body arrived whole: its length was not changed');
    assert.ok(lines.some((l) => l.includes('asked to change response headers that are the gateway') && l.includes('content-length, x-request-id, x-bad')), lines.join('\n'));

    // Every exchange ended (half-closed by the gateway), none left open.
    await Promise.all(epp.streams.map((x) => x.ended));
    // The gateway still serves after all of it.
    assert.equal((await ask('route')).response.status, 200);

    // The picker's part in each request, as metrics (admin listener): decisions by outcome and how long they took,
    // and its answers to the response headers. Pool default/closed, in the order above: route, stream, a client
    // that left, skip-response, mute-response, replace-response, owned, route.
    // A request is counted when its record ends, which may be just after its client read the answer: the last one
    // is waited for (bounded) rather than raced.
    let metrics = '';
    const count = (name: string, labels: string): number => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    const closed = 'pool="default/closed"';
    await waitFor(async () => {
      metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      return count('infergate_external_picker_decisions_total', `${closed},outcome="picked"`) >= 8;
    }, 3000);
    assert.equal(count('infergate_external_picker_decisions_total', `${closed},outcome="picked"`), 8, metrics.split('\n').filter((l) => l.includes('external_picker')).join('\n'));
    assert.equal(count('infergate_external_picker_decision_duration_seconds_count', closed), 8);
    assert.equal(count('infergate_external_picker_response_answers_total', `${closed},outcome="applied"`), 4);
    assert.equal(count('infergate_external_picker_response_answers_total', `${closed},outcome="skipped"`), 1);
    assert.equal(count('infergate_external_picker_response_answers_total', `${closed},outcome="unanswered"`), 1);
    assert.equal(count('infergate_external_picker_response_answers_total', `${closed},outcome="replaced"`), 1);
    assert.equal(count('infergate_external_picker_response_answers_total', 'pool="default/h2",outcome="applied"'), 2);
  } finally {
    await gw.close();
    await receiver.close();
    await flaky.close();
    epp.close();
    await h2cPod.close();
    await fleet.close();
    await cfg.remove();
  }
});
