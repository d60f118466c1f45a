/**
 * Issue #13 part 3: the standalone gateway in front of an external endpoint picker over ext_proc. First
 * infergate's own `extproc` (a process, TLS with its self-signed certificate, GIE's testing filter as its
 * EndpointPickerConfig) is the EPP of two pools whose refs name its Service; `serve --epp-service-name infergate`
 * (a process) fronts it: the pod the EPP chose serves, its conformance header reaches the client, the EPP's immediate response reaches the client, and with
 * the EPP stopped FailOpen still routes while FailClose answers 503, until it is back. Then a scripted EPP in
 * this process shows what llm-d's EPP can do: fallback endpoints tried in order, a plain-text 429, a pick
 * outside the pool, no decision in time. Pods on 127.0.90.x, pickers and gateways on 127.0.89.x.
 */
import { test } from 'node:test';
import { createServer, type Server as HttpServer } from 'node:http';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { extProcServiceDefinition } from '../../src/extproc/protos.js';
import type { HeaderAppendAction, ProcessingRequest, ProcessingResponse } from '../../src/extproc/processing-messages.js';
import { readHeaderMap } from '../../src/extproc/header-map.js';
import { fromStruct, toStruct } from '../../src/extproc/struct-value.js';
import { createLogger } from '../../src/observability/logger.js';
import { baseModelRouteYaml, podYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet } from '../helpers/fleet.js';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { repoRoot } from '../helpers/local-kube.js';
import { startSimulator } from '../../src/sim/simulator.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const HEADER = 'test-epp-endpoint-selection';
/** A pod that speaks only h2c, in pool h2 (appProtocol kubernetes.io/h2c) of the response-headers test. */
const H2C_POD = '127.0.90.20';
/** A pod (pool flaky) that sends a completion's headers, then drops the connection 50 ms later. */
const FLAKY_POD = '127.0.90.22';

/** The flaky pod: discovery and /metrics answered, every POST cut after its headers. */
async function flakyPod(port: number): Promise<HttpServer> {
  const models = JSON.stringify({ object: 'list', data: [{ id: 'model/flaky', object: 'model', root: 'model/flaky', parent: null }] });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end(models);
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => res.socket?.destroy(), 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, FLAKY_POD, resolve));
  return server;
}
const SERVED = 'x-gateway-destination-endpoint-served';
const CONFORMANCE_CONFIG = join(repoRoot(), 'deploy', 'conformance', 'endpoint-picker-config.yaml');

/** An InferencePool of the pods labelled `pool: NAME`, its ref naming Service ext-epp when `epp` is given. */
function pool(name: string, port: number, epp?: { port: number; failureMode: 'FailOpen' | 'FailClose' }): string {
  return `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {pool: ${name}}}
  targetPorts: [{number: ${port}}]
${epp ? `  endpointPickerRef: {name: ext-epp, port: {number: ${epp.port}}, failureMode: ${epp.failureMode}}\n` : ''}`;
}

/** The EPP's Service as the gateway's files declare it: its clusterIP is where the gateway dials. */
function eppService(ip: string, port: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ext-epp}
spec:
  clusterIP: ${ip}
  ports: [{name: grpc-ext-proc, port: ${port}}]
`;
}

/** Pods closed-0/1 (model/closed) and open-0/1 (model/open) on 127.0.90.2-5. */
async function twoPoolFleet(): Promise<Fleet> {
  return startFleet(90, [
    { name: 'closed-0', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
    { name: 'closed-1', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
    { name: 'open-0', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
    { name: 'open-1', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
  ]);
}

function fleetDocs(fleet: Fleet, epp?: { port: number }): string[] {
  return [
    ...['closed-0', 'closed-1'].map((n) => podYaml(n, fleet.ipOf(n), { pool: 'closed' })),
    ...['open-0', 'open-1'].map((n) => podYaml(n, fleet.ipOf(n), { pool: 'open' })),
    pool('closed', fleet.port, epp && { port: epp.port, failureMode: 'FailClose' }),
    pool('open', fleet.port, epp && { port: epp.port, failureMode: 'FailOpen' }),
    baseModelRouteYaml('closed', 'model/closed', [['closed', 1]]),
    baseModelRouteYaml('open', 'model/open', [['open', 1]]),
  ];
}

/** The status and OpenAI error of a request that must fail. */
async function failure(p: Promise<unknown>): Promise<{ status: number | undefined; code: unknown; message: string; headers: Headers | undefined }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { status: e.status, code: e.code, message: e.message, headers: e.headers };
    throw e;
  }
  throw new Error('the request succeeded');
}

/** Who served a completion of `model` (x-gateway-destination-endpoint-served), with `headers` on the request. */
async function servedBy(client: OpenAI, model: string, headers: Record<string, string> = {}): Promise<string> {
  const { response } = await client.completions.create({ model, prompt: 'Write as if you were a critic: San Francisco', max_tokens: 1 }, { headers }).withResponse();
  return response.headers.get(SERVED) ?? '(none)';
}

function startExtprocCli(dir: string, eppPort = 0): Promise<CliProcess> {
  return startCli(
    ['extproc', '-f', dir, '--host', '127.0.89.2', '--epp-port', String(eppPort), '--bbr-port', '0', '--health-port', '0', '--admin-port', '0', '--epp-config', CONFORMANCE_CONFIG, '--drain-timeout', '1s'],
    /infergate ext_proc servers ready/,
  );
}

test("serve fronts infergate's extproc as an external EPP: its picks, its immediate response, FailOpen/FailClose while it is down, back when it returns", async () => {
  const fleet = await twoPoolFleet();
  const eppCfg = await tempConfig({ 'all.yaml': fleetDocs(fleet).join('---\n') });
  const procs: CliProcess[] = [];
  let gwCfg: Awaited<ReturnType<typeof tempConfig>> | undefined;
  try {
    let extproc = await startExtprocCli(eppCfg.dir);
    procs.push(extproc);
    const eppPort = Number(/ epp=(\d+)/.exec(await extproc.line(/ext_proc servers ready/))![1]);
    gwCfg = await tempConfig({ 'all.yaml': [...fleetDocs(fleet, { port: eppPort }), eppService('127.0.89.2', eppPort)].join('---\n') });
    const gateway = await startCli(['serve', '-f', gwCfg.dir, '--host', '127.0.89.1', '--port', '0', '--admin-port', '0', '--epp-service-name', 'infergate', '--drain-timeout', '1s'], /infergate listening on/);
    procs.push(gateway);
    const url = /listening on (http:\/\/[0-9.]+:\d+)/.exec(await gateway.line(/infergate listening on/))![1]!;
    await gateway.line(new RegExp(`InferencePool default/closed: .*infergate asks that endpoint picker over ext_proc at 127\\.0\\.89\\.2:${eppPort} \\(Service default/ext-epp at its clusterIP 127\\.0\\.89\\.2, port\\.number\\) for each request; failureMode FailClose`));
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const addr = (pod: string): string => `${fleet.ipOf(pod)}:${fleet.port}`;

    // The EPP decides: its testing filter pins each request to the pod the header names. The gateway's own
    // picker (llm-d's default profile) knows nothing of that header and would spread them.
    for (const pod of ['closed-0', 'closed-1']) {
      for (let i = 0; i < 4; i++) assert.equal(await servedBy(client, 'model/closed', { [HEADER]: fleet.ipOf(pod) }), addr(pod), `pinned to ${pod}`);
    }
    for (const pod of ['open-0', 'open-1']) assert.equal(await servedBy(client, 'model/open', { [HEADER]: addr(pod) }), addr(pod));
    // GIE's GatewayDestinationEndpointServed with the EPP as an external picker: its destination-endpoint-served-verifier
    // sets the conformance header in its answer to the response headers, and the gateway applies it.
    const { response: verified } = await client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { [HEADER]: fleet.ipOf('closed-0') } }).withResponse();
    assert.equal(verified.headers.get('x-conformance-test-served-endpoint'), addr('closed-0'));
    // --epp-response-header-mode skip, for a picker behind an Envoy that skips them: not asked, so no header.
    const skipping = await startCli(['serve', '-f', gwCfg.dir, '--host', '127.0.89.4', '--port', '0', '--admin-port', '0', '--epp-service-name', 'infergate', '--epp-response-header-mode', 'skip', '--drain-timeout', '1s'], /infergate listening on/);
    procs.push(skipping);
    const skipUrl = /listening on (http:\/\/[0-9.]+:\d+)/.exec(await skipping.line(/infergate listening on/))![1]!;
    const { response: unasked } = await new OpenAI({ baseURL: `${skipUrl}/v1`, apiKey: 'unused', maxRetries: 0 }).completions
      .create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { [HEADER]: fleet.ipOf('closed-0') } })
      .withResponse();
    assert.equal(unasked.headers.get(SERVED), addr('closed-0'), 'the EPP still picks');
    assert.equal(unasked.headers.get('x-conformance-test-served-endpoint'), null, 'its answer to the response headers is not asked for');
    skipping.kill('SIGTERM');
    await skipping.exited;

    // Its immediate response reaches the client as it sent it: status, OpenAI error, message.
    const refused = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }));
    assert.equal(refused.status, 503);
    assert.equal(refused.code, 'no_healthy_endpoint');
    assert.match(refused.message, /InferencePool default\/closed.*header-based-testing-filter.*removed every candidate: the request has no test-epp-endpoint-selection header/);

    // The EPP goes away.
    extproc.kill('SIGTERM');
    await extproc.exited;
    const closed = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { [HEADER]: fleet.ipOf('closed-0') } }));
    assert.equal(closed.status, 503);
    assert.equal(closed.code, 'endpoint_picker_unavailable');
    assert.match(closed.message, new RegExp(`the endpoint picker of InferencePool default/closed \\(default/ext-epp, ext_proc at 127\\.0\\.89\\.2:${eppPort}\\) is unavailable \\(UNAVAILABLE: .*failureMode is FailClose`));
    assert.equal(closed.headers?.get('retry-after'), '1');
    const openServed = new Set<string>();
    for (let i = 0; i < 6; i++) openServed.add(await servedBy(client, 'model/open', { [HEADER]: fleet.ipOf('open-0') }));
    assert.ok([...openServed].every((a) => a === addr('open-0') || a === addr('open-1')), `FailOpen: a pod of the pool, picked by infergate: ${[...openServed].join(', ')}`);
    await gateway.line(/the endpoint picker of InferencePool default\/open \(default\/ext-epp, ext_proc at .*\) is unavailable .*; FailOpen: infergate picks instead/);

    // Back on the same address: the gateway's channel reconnects and the EPP decides again.
    extproc = await startExtprocCli(eppCfg.dir, eppPort);
    procs.push(extproc);
    const back = await waitFor(async () => {
      try {
        return (await servedBy(client, 'model/closed', { [HEADER]: fleet.ipOf('closed-1') })) === addr('closed-1');
      } catch {
        return false;
      }
    }, 15_000);
    assert.ok(back, 'the EPP decides again once it is back');
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await fleet.close();
    await eppCfg.remove();
    await gwCfg?.remove();
  }
});

type Call = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/**
 * An EPP scripted by the request's `x-script` header, as llm-d's could answer: `fallback` picks a pod that
 * refuses connections first, then a live one; `shed` answers 429 in plain text with llm-d's dropped-reason
 * header; `stranger` picks an address outside the pool; `hang` never answers; any other picks closed-1
 (`skip-response` with a mode_override that skips the response headers). Every
 * stream is recorded. The response headers are answered as `answerResponse` says.
 */
/**
 * The scripted EPP's answer to the response headers: by default GIE's conformance header naming the endpoint that
 * served (from the metadata the gateway sends), a session token as llm-d's session affinity sets one, and the
 * upstream's `x-sim-engine` removed; `mute-response` never answers; `replace-response` answers with a plain-text
 * 503 instead; `owned` asks for a 203 and for changes the gateway keeps to itself.
 */
function answerResponse(call: Call, script: string, m: ProcessingRequest): void {
  const set = (key: string, value: string, append_action?: HeaderAppendAction) => ({ header: { key, raw_value: Buffer.from(value) }, ...(append_action ? { append_action } : {}) });
  if (script === 'mute-response' || script === 'mute-deadline' || script === 'flaky') return;
  if (script === 'replace-response') {
    call.write({ immediate_response: { status: { code: 503 }, body: Buffer.from('endpoint went away mid-answer') } });
    return;
  }
  if (script === 'owned') {
    call.write({ response_headers: { response: { header_mutation: { set_headers: [set(':status', '203'), set('content-length', '1', 'OVERWRITE_IF_EXISTS_OR_ADD'), set('x-request-id', 'forged'), set('x-bad', 'a\r\nb'), set('x-kept', 'yes')] } } } });
    return;
  }
  const served = fromStruct(m.metadata_context!.filter_metadata!['envoy.lb'])['x-gateway-destination-endpoint-served'] as string;
  const status = readHeaderMap(m.response_headers!.headers).get(':status');
  call.write({
    response_headers: {
      response: {
        header_mutation: {
          set_headers: [set('x-conformance-test-served-endpoint', served), set('x-session-token', `token-for-${served}`, 'OVERWRITE_IF_EXISTS_OR_ADD'), set('x-upstream-status', status ?? '?', 'ADD_IF_ABSENT')],
          remove_headers: ['x-inference-pod'],
        },
      },
    },
  });
}

async function scriptedEpp(fleet: Fleet, dead: string) {
  const streams: { messages: ProcessingRequest[]; ended: Promise<void> }[] = [];
  const live = `${fleet.ipOf('closed-1')}:${fleet.port}`;
  const server = new Server();
  server.addService(extProcServiceDefinition(), {
    Process: (call: Call) => {
      let done!: () => void;
      const seen = { messages: [] as ProcessingRequest[], ended: new Promise<void>((r) => (done = r)) };
      streams.push(seen);
      let script = '';
      call.on('data', (m: ProcessingRequest) => {
        seen.messages.push(m);
        if (m.response_headers) return answerResponse(call, script, m);
        if (m.request_headers) script = readHeaderMap(m.request_headers.headers).get('x-script') ?? '';
        if (m.request_body?.end_of_stream !== true) return;
        if (script === 'hang') return;
        if (script === 'shed') {
          call.write({ immediate_response: { status: { code: 429 }, body: Buffer.from('request dropped by flow control'), headers: { set_headers: [{ header: { key: 'x-llm-d-request-dropped-reason', raw_value: Buffer.from('saturated') } }] } } });
          return;
        }
        const pick = script === 'fallback' ? `${dead},${live}` : script === 'stranger' ? '127.0.90.77:1' : script === 'h2c' ? `${H2C_POD}:${fleet.port}` : script === 'flaky' ? `${FLAKY_POD}:${fleet.port}` : live;
        call.write({
          request_headers: { response: { header_mutation: { set_headers: [{ header: { key: 'x-gateway-destination-endpoint', raw_value: Buffer.from(pick) } }] } } },
          dynamic_metadata: toStruct({ 'envoy.lb': { 'x-gateway-destination-endpoint': pick } }),
          ...(script === 'skip-response' ? { mode_override: { response_header_mode: 'SKIP' as const } } : {}),
        });
        call.write({ request_body: { response: { body_mutation: { streamed_response: { body: m.request_body.body ?? Buffer.alloc(0), end_of_stream: true } } } } });
      });
      call.on('end', () => call.end());
      call.on('close', () => done());
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.89.3:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, streams, close: () => server.forceShutdown() };
}

test('a scripted EPP (plaintext): fallbacks tried in order and the served one reported; a plain-text 429 wrapped; a pick outside the pool and no decision in time are the failureMode', async () => {
  const fleet = await twoPoolFleet();
  // closed-9: a ready pod of the pool on an address where nothing listens.
  const dead = `127.0.90.9:${fleet.port}`;
  const epp = await scriptedEpp(fleet, dead);
  const cfg = await tempConfig({ 'all.yaml': [...fleetDocs(fleet, { port: epp.port }), podYaml('closed-9', '127.0.90.9', { pool: 'closed' }), eppService('127.0.89.3', epp.port)].join('---\n') });
  const lines: string[] = [];
  const gw = await startTestGateway(cfg.dir, { host: '127.0.89.1', eppServiceName: 'infergate', externalPickers: { plaintext: true, messageTimeoutMs: 300 }, log: createLogger('info', (l) => lines.push(l)) });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const live = `${fleet.ipOf('closed-1')}:${fleet.port}`;

    assert.equal(await servedBy(client, 'model/closed', { 'x-script': 'fallback', 'x-request-id': 'req-fallback' }), live, 'the fallback served once the first endpoint refused');
    const s = epp.streams.at(-1)!;
    await s.ended;
    const [headers, body, response] = s.messages;
    const h = readHeaderMap(headers!.request_headers!.headers);
    assert.equal(h.get(':method'), 'POST');
    assert.equal(h.get(':path'), '/v1/completions');
    assert.equal(h.get('x-request-id'), 'req-fallback');
    assert.equal(h.get('x-gateway-model-name'), 'model/closed', "body-based routing's headers go to the EPP, as Envoy's BBR filter runs first");
    // The hint: the pool's endpoints fit to take a request (the dead one too until a request finds it dead).
    const hint = fromStruct(headers!.metadata_context!.filter_metadata!['envoy.lb.subset_hint'])['x-gateway-destination-endpoint-subset'] as string[];
    assert.ok(hint.includes(live) && hint.includes(`${fleet.ipOf('closed-0')}:${fleet.port}`) && hint.every((a) => [dead, live, `${fleet.ipOf('closed-0')}:${fleet.port}`].includes(a)), hint.join(', '));
    assert.equal(JSON.parse(body!.request_body!.body!.toString()).model, 'model/closed');
    assert.deepEqual(fromStruct(response!.metadata_context!.filter_metadata!['envoy.lb']), { [SERVED]: live }, 'the EPP hears which endpoint served');

    const shed = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'shed' } }));
    assert.equal(shed.status, 429);
    assert.equal(shed.code, 'endpoint_picker_rejected');
    assert.match(shed.message, /the endpoint picker of InferencePool default\/closed \(default\/ext-epp\) refused the request with 429: request dropped by flow control/);
    assert.equal(shed.headers?.get('x-llm-d-request-dropped-reason'), 'saturated');

    const stranger = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'stranger' } }));
    assert.equal(stranger.status, 503);
    assert.equal(stranger.code, 'endpoint_picker_unavailable');
    assert.match(stranger.message, /chose 127\.0\.90\.77:1 \(dynamic metadata envoy\.lb x-gateway-destination-endpoint\), none of which is a ready endpoint of the pool/);
    // FailOpen: the same pick outside the pool sends the request where infergate picks.
    assert.match(await servedBy(client, 'model/open', { 'x-script': 'stranger' }), /^127\.0\.90\.[45]:/);

    const hang = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'hang' } }));
    assert.equal(hang.status, 503);
    assert.match(hang.message, /did not decide within 300ms \(--epp-message-timeout\)/);
    assert.ok(lines.some((l) => l.includes('the endpoint picker of InferencePool default/closed') && l.includes('FailClose: refused with 503')), lines.join('\n'));

    // As metrics: each decision by outcome (a pick outside the pool and no decision in time are both unavailable).
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const decisions = (pool: string, outcome: string): number => Number(new RegExp(`^infergate_external_picker_decisions_total\\{pool="default/${pool}",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    assert.deepEqual(
      [decisions('closed', 'picked'), decisions('closed', 'immediate'), decisions('closed', 'unavailable'), decisions('open', 'unavailable')],
      [1, 1, 2, 1],
      metrics.split('\n').filter((l) => l.startsWith('infergate_external_picker_decisions')).join('\n'),
    );
  } finally {
    await gw.close();
    epp.close();
    await fleet.close();
    await cfg.remove();
  }
});

test("a scripted EPP's answer to the response headers: its changes reach the client (streams too), an immediate response replaces the answer, no answer in time passes it unchanged, the gateway's own headers stay", async () => {
  const fleet = await twoPoolFleet();
  const epp = await scriptedEpp(fleet, `127.0.90.9:${fleet.port}`);
  // A pool speaking h2c to its pod, picked by the same EPP: the held answer over undici's HTTP/2 client.
  const h2cPod = await startSimulator({ host: H2C_POD, port: fleet.port, model: 'model/h2c', ttftMs: 0, itlMs: 1, h2c: true, podName: 'h2c-0' });
  const flaky = await flakyPod(fleet.port);
  const flakyPool = `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: flaky}
spec:
  selector: {matchLabels: {pool: flaky}}
  targetPorts: [{number: ${fleet.port}}]
  endpointPickerRef: {name: ext-epp, port: {number: ${epp.port}}, failureMode: FailClose}
`;
  const h2cPool = `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: h2}
spec:
  selector: {matchLabels: {pool: h2}}
  targetPorts: [{number: ${fleet.port}}]
  appProtocol: kubernetes.io/h2c
  endpointPickerRef: {name: ext-epp, port: {number: ${epp.port}}, failureMode: FailClose}
`;
  // The closed pods again, as a pool with a 150 ms upstream timeout, for requests that ask for it by header (two
  // header matches outrank the model route's one).
  const latePool = `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: late
  annotations: {infergate.io/upstream-timeout: 150ms}
spec:
  selector: {matchLabels: {pool: closed}}
  targetPorts: [{number: ${fleet.port}}]
  endpointPickerRef: {name: ext-epp, port: {number: ${epp.port}}, failureMode: FailClose}
---
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
    externalPickers: { plaintext: true, messageTimeoutMs: 300 },
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
    assert.ok(lines.some((l) => l.includes('the endpoint picker of InferencePool default/closed') && l.includes('did not answer the response headers within 300ms (--epp-message-timeout); the answer went to the client unchanged')), lines.join('\n'));

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
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const count = (name: string, labels: string): number => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    const closed = 'pool="default/closed"';
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
    await new Promise<void>((resolve) => flaky.close(() => resolve()));
    epp.close();
    await h2cPod.close();
    await fleet.close();
    await cfg.remove();
  }
});
