/**
 * Pods started with an API key (vLLM --api-key; the simulator's apiKeys), through the gateway with the
 * official `openai` client: discovered, scraped and routed with their pool's key; a wrong or missing key
 * reported in /readyz, the metrics, the log, `explain` and the request's error; the client's Authorization
 * forwarded unchanged without a pool key and replaced with one; the key on the ext_proc header mutation.
 * Simulated pods on 127.0.82.x; two recording pods (a loopback server that checks the key) on 127.0.83.x.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { explainRequest } from '../../src/cli/explain.js';
import { renderPlan } from '../../src/cli/render-plan.js';
import { ExtProcClient, requestBody, requestHeaders } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { createLogger } from '../../src/logger.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const GEMMA = 'google/gemma-2b-it';
const QWEN = 'Qwen/Qwen3-8B';
const PHI = 'microsoft/Phi-3-mini-4k-instruct';
const OPEN = 'echo-open';
const KEYED = 'echo-keyed';

/** A pool with annotations (the manifests helper writes none). */
function annotatedPool(name: string, port: number, annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  return poolYaml(name, { app: name }, port).replace('  namespace: default\n', `  namespace: default\n  annotations:\n${lines}\n`);
}

/**
 * A model server that records the headers of each request and, when given a key, guards /v1 and /metrics
 * with it as vLLM behind an authenticating proxy would (vLLM itself leaves /metrics open).
 */
class RecordingPod {
  readonly server: Server;
  readonly seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  constructor(model: string, key?: string) {
    this.server = createServer((req, res) => {
      this.seen.push({ path: req.url ?? '', headers: req.headers });
      if (key !== undefined && req.headers.authorization !== `Bearer ${key}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Unauthorized"}');
        return;
      }
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('vllm:num_requests_waiting{model_name="m"} 0\nvllm:num_requests_running{model_name="m"} 0\nvllm:kv_cache_usage_perc{model_name="m"} 0\n');
      } else if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'vllm', root: model, parent: null }] }));
      } else {
        req.resume();
        req.on('end', () => {
          const body = { id: 'chatcmpl-1', object: 'chat.completion', created: 0, model, choices: [{ index: 0, message: { role: 'assistant', content: req.headers.authorization ?? '(none)' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        });
      }
    });
  }
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return (this.server.address() as AddressInfo).port;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;
let openPod: RecordingPod;
let keyedPod: RecordingPod;
const lines: string[] = [];

before(async () => {
  fleet = await startFleet(82, [
    { name: 'gemma-0', labels: {}, model: GEMMA, apiKeys: ['sk-gemma'], ttftMs: 1, itlMs: 1 },
    { name: 'gemma-1', labels: {}, model: GEMMA, apiKeys: ['sk-gemma'], ttftMs: 1, itlMs: 1 },
    { name: 'qwen-0', labels: {}, model: QWEN, apiKeys: ['sk-qwen'], ttftMs: 1, itlMs: 1 },
    { name: 'phi-0', labels: {}, model: PHI, apiKeys: ['sk-phi'], ttftMs: 1, itlMs: 1 },
  ]);
  openPod = new RecordingPod(OPEN);
  keyedPod = new RecordingPod(KEYED, 'sk-echo');
  const echoPort = await openPod.listen('127.0.83.20', 0);
  await keyedPod.listen('127.0.83.21', echoPort);
  cfg = await tempConfig({});
  await cfg.write('gemma.key', 'sk-gemma\n');
  await cfg.write('qwen.key', 'sk-wrong\n');
  await cfg.write('echo.key', 'sk-echo');
  const pods = [...['gemma-0', 'gemma-1', 'qwen-0', 'phi-0'].map((n) => podYaml(n, fleet.ipOf(n), { app: n.split('-')[0]! })), podYaml('open-0', '127.0.83.20', { app: 'echo-open' }), podYaml('keyed-0', '127.0.83.21', { app: 'echo-keyed' })];
  await cfg.write('config.yaml', [
    ...pods,
    annotatedPool('gemma', fleet.port, { 'infergate.io/upstream-api-key-file': join(cfg.dir, 'gemma.key') }),
    annotatedPool('qwen', fleet.port, { 'infergate.io/upstream-api-key-file': join(cfg.dir, 'qwen.key') }),
    // phi's pods want a key; its pool names none.
    poolYaml('phi', { app: 'phi' }, fleet.port),
    poolYaml('echo-open', { app: 'echo-open' }, echoPort),
    annotatedPool('echo-keyed', echoPort, { 'infergate.io/upstream-api-key-file': join(cfg.dir, 'echo.key') }),
    // qwen is declared in an allowlist: its request reaches the pool and gets 503; phi's, known nowhere, 404.
    allowlistYaml('qwen-allowlist', QWEN, []),
    ...[['gemma', GEMMA], ['qwen', QWEN], ['phi', PHI], ['echo-open', OPEN], ['echo-keyed', KEYED]].map(([pool, model]) => baseModelRouteYaml(pool!, model!, [[pool!, 1]])),
  ].join('---\n'));
  gw = await startTestGateway(cfg.dir, { log: createLogger('info', (l) => lines.push(l)) });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await openPod?.close();
  await keyedPod?.close();
  await cfg?.remove();
});

interface Readyz {
  details?: { upstream_auth?: { refused?: { pool: string; pod: string; path: string; status: number; message: string }[]; keys?: unknown[] } };
}

async function readyz(): Promise<Readyz> {
  const res = await request(`${gw.url}/readyz`);
  assert.equal(res.statusCode, 200, 'refusals are details: other pools still serve');
  return (await res.body.json()) as Readyz;
}

async function metricsText(): Promise<string> {
  return (await request(`${gw.adminUrl}/metrics`)).body.text();
}

describe('pods that require an API key', () => {
  test("discovered, scraped and routed with the pool's key, which replaces the client's", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const { data, response } = await client.chat.completions.create({ model: GEMMA, messages: [{ role: 'user', content: `hello ${i}` }], max_tokens: 3 }).withResponse();
      assert.ok(data.choices[0]!.message.content);
      seen.add(response.headers.get('x-inference-pod') ?? '?');
    }
    assert.deepEqual([...seen].sort(), ['gemma-0', 'gemma-1'], 'both keyed pods discovered and picked');
    const streamed = await client.chat.completions.create({ model: GEMMA, messages: [{ role: 'user', content: 'stream' }], max_tokens: 3, stream: true });
    let chunks = 0;
    for await (const _ of streamed) chunks++;
    assert.ok(chunks > 0);

    // The recording pod guards /metrics too: it was scraped (and asked /v1/models) with the key, and routed with it.
    const answer = await client.chat.completions.create({ model: KEYED, messages: [{ role: 'user', content: 'who am I' }] });
    assert.equal(answer.choices[0]!.message.content, 'Bearer sk-echo', "the pool's key, not the client's");
    assert.ok(keyedPod.seen.some((r) => r.path === '/metrics' && r.headers.authorization === 'Bearer sk-echo'), 'scraped with the key');
    const keyedEp = gw.gateway.datastore.endpoint(`127.0.83.21:${(keyedPod.server.address() as AddressInfo).port}`)!;
    assert.equal(keyedEp.metricsRefused, 0);
    assert.ok(keyedEp.metrics, 'metrics read through the guard');

    const metrics = await metricsText();
    assert.match(metrics, /infergate_endpoint_auth_refused\{pool="default\/gemma",endpoint="127\.0\.82\.2:\d+",pod="default\/gemma-0",path="\/v1\/models"\} 0/);
    assert.match(metrics, /infergate_endpoint_auth_refused\{pool="default\/echo-keyed",endpoint="127\.0\.83\.21:\d+",pod="default\/keyed-0",path="\/metrics"\} 0/);
    assert.match(metrics, /infergate_pool_upstream_api_key_unreadable\{pool="default\/gemma"\} 0/);
    assert.doesNotMatch(metrics, /sk-/, 'no key in any label');
  });

  test("without a pool key the client's Authorization reaches the pod unchanged", async () => {
    const answer = await client.chat.completions.create({ model: OPEN, messages: [{ role: 'user', content: 'who am I' }] });
    assert.equal(answer.choices[0]!.message.content, 'Bearer client-key');
    assert.ok(openPod.seen.some((r) => r.path === '/v1/models' && r.headers.authorization === undefined), 'discovery sends no key where none is set');
  });

  test('a pod that wants a key the pool does not name: a warning naming the pod and what to set, /readyz, the metric, and a 404 saying why', async () => {
    const warned = lines.find((l) => l.includes(' WARN ') && l.includes('pod=default/phi-0'));
    assert.ok(warned, `a warning for phi-0 in:\n${lines.join('\n')}`);
    assert.match(warned, /model discovery refused: the pod wants another API key .*pool=default\/phi .*infergate\.io\/upstream-api-key-file/);

    const phi = (await readyz()).details?.upstream_auth?.refused?.find((r) => r.pod === 'default/phi-0');
    assert.deepEqual(phi && { pool: phi.pool, path: phi.path, status: phi.status }, { pool: 'default/phi', path: '/v1/models', status: 401 });
    assert.match(phi!.message, /the pod requires an API key \(vLLM --api-key or VLLM_API_KEY\) and the gateway sent none \(InferencePool default\/phi names no key\); set the pool's annotation infergate\.io\/upstream-api-key-file/);
    assert.match(await metricsText(), /infergate_endpoint_auth_refused\{pool="default\/phi",endpoint="127\.0\.82\.5:\d+",pod="default\/phi-0",path="\/v1\/models"\} 1/);

    await assert.rejects(client.chat.completions.create({ model: PHI, messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.equal((e.error as { code?: string }).code, 'model_not_found');
      assert.match(e.message, /2 pod\(s\) did not say what they serve, for want of the right API key: pod default\/phi-0: GET http:\/\/127\.0\.82\.5:\d+\/v1\/models answered 401 Unauthorized: the pod requires an API key/);
      return true;
    });
  });

  test('explain shows the key a pool sends (by source), and an endpoint refusing it with what was sent', async () => {
    const keyed = renderPlan(await explainRequest({ configPath: cfg.dir, body: JSON.stringify({ model: GEMMA, messages: [] }), headers: [] })).join('\n');
    assert.match(keyed, /upstream API key: file .*gemma\.key \(annotation infergate\.io\/upstream-api-key-file\), sent as "Authorization: Bearer" in place of the client's/);
    assert.match(keyed, /pick: 127\.0\.82\.[23]:\d+/);
    const refused = renderPlan(await explainRequest({ configPath: cfg.dir, body: JSON.stringify({ model: QWEN, messages: [] }), headers: [] })).join('\n');
    assert.match(refused, /127\.0\.82\.4:\d+ \(pod default\/qwen-0, in-flight 0\): excluded: GET http:\/\/127\.0\.82\.4:\d+\/v1\/models answered 401 Unauthorized: the pod refused the API key of InferencePool default\/qwen/);
    assert.match(refused, /error 503 no_healthy_endpoint/);
    const unknown = renderPlan(await explainRequest({ configPath: cfg.dir, body: JSON.stringify({ model: PHI, messages: [] }), headers: [] })).join('\n');
    assert.match(unknown, /error 404 model_not_found: .*did not say what they serve, for want of the right API key: pod default\/phi-0: .*answered 401 Unauthorized: .*infergate\.io\/upstream-api-key-file/);
    assert.doesNotMatch(keyed + refused + unknown, /sk-/);
  });

  test('a wrong key: /readyz and the 503 name the 401 and the key sent (never its value); fixing the file recovers without a restart', async () => {
    const qwen = (await readyz()).details?.upstream_auth?.refused?.find((r) => r.pod === 'default/qwen-0');
    assert.ok(qwen, 'qwen-0 is listed');
    assert.match(qwen.message, /answered 401 Unauthorized: the pod refused the API key of InferencePool default\/qwen that the gateway sent \(file .*qwen\.key \(annotation infergate\.io\/upstream-api-key-file\)\)/);
    assert.doesNotMatch(JSON.stringify(await readyz()), /sk-wrong|sk-qwen/);

    await assert.rejects(client.chat.completions.create({ model: QWEN, messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.InternalServerError);
      assert.equal(e.status, 503);
      assert.equal((e.error as { code?: string }).code, 'no_healthy_endpoint');
      assert.match(e.message, /no endpoint of InferencePool default\/qwen can take model `Qwen\/Qwen3-8B`: 127\.0\.82\.4:\d+ \(pod default\/qwen-0\): GET http:\/\/127\.0\.82\.4:\d+\/v1\/models answered 401 Unauthorized: the pod refused the API key/);
      assert.doesNotMatch(e.message, /sk-/);
      return true;
    });

    // As when the Secret behind a mounted file is corrected: a refusal reads the keys again (every 5 s at most).
    await writeFile(join(cfg.dir, 'qwen.key'), 'sk-qwen\n');
    assert.ok(await waitFor(() => gw.gateway.datastore.endpoint(`${fleet.ipOf('qwen-0')}:${fleet.port}`)?.serves(QWEN) === true, 15_000), 'qwen-0 discovered with the corrected key');
    const ok = await client.chat.completions.create({ model: QWEN, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    assert.ok(ok.choices[0]);
    assert.equal((await readyz()).details?.upstream_auth?.refused?.some((r) => r.pod === 'default/qwen-0'), false);
    assert.doesNotMatch(lines.join('\n'), /sk-(wrong|qwen|gemma|echo)/, 'keys never reach the log');
  });

});

describe('ext_proc', () => {
  let xp: RunningExtproc;
  let ext: ExtProcClient;
  before(async () => {
    xp = await startTestExtproc({ configPath: cfg.dir });
    ext = new ExtProcClient(`127.0.0.1:${xp.ports.epp}`);
    assert.ok(await waitFor(() => xp.gateway.datastore.endpoint(`${fleet.ipOf('gemma-0')}:${fleet.port}`)?.serves(GEMMA) === true, 10_000), 'the picker discovered the keyed pods');
  });
  after(async () => {
    ext?.close();
    await xp?.close();
  });

  const mutation = (r: ProcessingResponse): { set: Map<string, string>; remove: string[] } => {
    const m = r.request_headers?.response?.header_mutation ?? r.request_body?.response?.header_mutation;
    return { set: new Map((m?.set_headers ?? []).map((h) => [h.header.key, h.header.raw_value?.toString() ?? ''])), remove: m?.remove_headers ?? [] };
  };
  const headers = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw', 'content-type': 'application/json', authorization: 'Bearer client-key' };
  const protocol = { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'FULL_DUPLEX_STREAMED' } } as const;

  test("the pool's key goes to the pod in the header mutation; without one the client's is left alone", async () => {
    const s = ext.open().send(requestHeaders(headers, false, protocol), requestBody(JSON.stringify({ model: GEMMA, messages: [] }), true));
    const keyed = mutation(await s.next());
    assert.equal(keyed.set.get('authorization'), 'Bearer sk-gemma');
    await s.next();
    await ended(s);

    const o = ext.open().send(requestHeaders(headers, false, protocol), requestBody(JSON.stringify({ model: OPEN, messages: [] }), true));
    const open = mutation(await o.next());
    assert.equal(open.set.has('authorization'), false);
    assert.equal(open.remove.includes('authorization'), false);
    assert.equal(open.set.get('x-gateway-destination-endpoint'), `127.0.83.20:${(openPod.server.address() as AddressInfo).port}`);
    await o.next();
    await ended(o);
  });
});
