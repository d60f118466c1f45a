/**
 * P/D disaggregation through `serve`, as llm-d's endpoint picker does it: the request goes to a decode pod with the
 * prefill pod in `x-prefiller-host-port`, for the routing sidecar in front of the decode pod (here the pods are
 * scripted, and report the headers they got). Pods on 127.0.252.x; llm-d.ai/role labels their stages. The ext_proc
 * picker's answer is read from a replayed Envoy message sequence over real gRPC (no Envoy binary runs here).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';
import { ALWAYS_PD_CONFIG } from '../helpers/epp-configs.js';
import { ExtProcClient, requestBody, requestHeaders, responseHeaders } from '../../src/extproc/ext-proc-client.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { CHAT, FULL_DUPLEX, chat, destination } from '../helpers/extproc-epp.js';

const MODEL = 'pd/model';
const HOST = '127.0.252.10';
const ROLE = 'llm-d.ai/role';

/** The headers of each chat request a pod got, by pod. */
const seen = new Map<string, IncomingHttpHeaders[]>();
const pods: ScriptedPod[] = [];
/** While set, the decode pods hold their answers until it resolves. */
let hold: Promise<void> | undefined;
let cfg: TempConfig;
let gw: RunningGateway;

async function pod(host: string, port: number): Promise<ScriptedPod> {
  seen.set(host, []);
  return startScriptedPod({
    host,
    port,
    model: MODEL,
    paths: {
      '/v1/chat/completions': async (req, res) => {
        seen.get(host)!.push(req.headers);
        if (hold) await hold;
        const answer = { id: 'c', object: 'chat.completion', created: 1, model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      },
    },
  });
}

before(async () => {
  const first = await pod('127.0.252.1', 0);
  pods.push(first, await pod('127.0.252.2', first.port), await pod('127.0.252.3', first.port));
  const roles = ['decode', 'decode', 'prefill'];
  const pool = poolYaml('pd', { app: 'pd' }, first.port).replace('metadata:\n  name: pd', 'metadata:\n  name: pd\n  annotations: {infergate.io/endpoint-picker-config: pd-epp}');
  cfg = await tempConfig({ 'all.yaml': [...pods.map((p, i) => podYaml(`pd-${i}`, p.host, { app: 'pd', [ROLE]: roles[i]! })), pool, prefixRouteYaml('all', '/v1/', 'pd'), eppConfigMapYaml('pd-epp', ALWAYS_PD_CONFIG)].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST });
  const listed = async (): Promise<boolean> => ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: unknown[] }).data.length > 0;
  assert.ok(await waitFor(listed), 'the model is discovered');
});

after(async () => {
  await gw?.close();
  for (const p of pods) await p.close();
  await cfg?.remove();
});

test('each request goes to a decode pod carrying the prefill pod in x-prefiller-host-port; a client cannot set it', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const prefill = `127.0.252.3:${pods[0]!.port}`;
  for (let i = 0; i < 4; i++) {
    const { response } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `q${i}` }] }, { headers: { 'x-prefiller-host-port': '10.6.6.6:80' } }).withResponse();
    assert.match(response.headers.get('x-gateway-destination-endpoint-served') ?? '', /^127\.0\.252\.[12]:/, 'a decode pod answers');
  }
  const decoded = [...(seen.get('127.0.252.1') ?? []), ...(seen.get('127.0.252.2') ?? [])];
  assert.equal(decoded.length, 4);
  for (const h of decoded) assert.equal(h['x-prefiller-host-port'], prefill);
  assert.equal(seen.get('127.0.252.3')!.length, 0, 'the gateway sends nothing to the prefill pod itself: the sidecar does');
});

test("the decisions are counted as llm-d counts them, under today's name and the legacy one", async () => {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  assert.match(text, /^llm_d_epp_disagg_decision_total\{plugin_name="disagg-profile-handler",plugin_type="disagg-profile-handler",model_name="pd\/model",decision_type="prefill-decode"\} 4$/m);
  assert.match(text, /^llm_d_inference_scheduler_disagg_decision_total\{model_name="pd\/model",decision_type="prefill-decode"\} 4$/m);
});

test('the prefill pod counts the request in flight until the answer starts, as llm-d counts it', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const prefill = gw.gateway.datastore.endpoint(`127.0.252.3:${pods[0]!.port}`)!;
  let release!: () => void;
  hold = new Promise((resolve) => (release = resolve));
  const asked = client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'held' }] });
  try {
    assert.ok(await waitFor(() => prefill.inFlight === 1), 'counted on the prefill pod while the decode pod has not answered');
  } finally {
    hold = undefined;
    release();
  }
  await asked;
  assert.equal(prefill.inFlight, 0, 'released once the answer started');
  for (const ep of gw.gateway.datastore.pool('default/pd')!.endpoints) assert.equal(ep.inFlight, 0, ep.address);
});

test("the ext_proc picker answers Envoy the same way: the decode pod, and the prefill pod in the header mutation, the client's value removed", async () => {
  const xp = await startTestExtproc({ configPath: cfg.dir });
  const client = new ExtProcClient(`127.0.0.1:${xp.ports.epp}`);
  try {
    const listed = (): boolean => xp.gateway.datastore.endpoint(`127.0.252.1:${pods[0]!.port}`)?.serves(MODEL) === true;
    assert.ok(await waitFor(listed), 'the picker knows the pods');
    const s = client.open().send(requestHeaders({ ...CHAT, 'x-prefiller-host-port': '10.6.6.6:80' }, false, FULL_DUPLEX), requestBody(chat(MODEL), true));
    const answer = await s.next();
    assert.match(destination(answer), /^127\.0\.252\.[12]:/);
    const mutation = answer.request_headers?.response?.header_mutation;
    const prefill = mutation?.set_headers?.find((o) => o.header.key === 'x-prefiller-host-port');
    assert.equal(prefill?.header.raw_value?.toString(), `127.0.252.3:${pods[0]!.port}`);
    const prefillEp = xp.gateway.datastore.endpoint(`127.0.252.3:${pods[0]!.port}`)!;
    assert.equal(prefillEp.inFlight, 1, 'the prefill pod counts the request until the answer starts');
    s.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' }, false));
    // The request body's answer comes first, then the response headers'.
    for (let i = 0; i < 3 && (await s.next()).response_headers === undefined; i++);
    assert.equal(prefillEp.inFlight, 0, 'the answer started: the prefill is done');
    assert.equal(xp.gateway.datastore.endpoint(destination(answer))!.inFlight, 1, 'the decode pod still serves it');
    await ended(s);
  } finally {
    client.close();
    await xp.close();
  }
});
