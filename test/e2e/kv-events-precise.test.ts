/**
 * Precise prefix routing end to end (issue #14): simulated vLLM pods publish KV events over ZMQ as vLLM does (p2 in
 * the legacy encoding); the gateway subscribes to every endpoint of the pool, follows stores, evictions, resets,
 * pods joining (on the ports their annotations name) and leaving, and routes a repeated long prompt to the pod that
 * holds its blocks, even one filled behind the gateway's back. An ext_proc picker subscribes too and agrees.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator.js';
import { parseKvEventsConfig } from '../../src/sim/kv-events/kv-events-config.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { chatBody, direct, heldBlocks, preciseEppConfig, systemPrompt, viewOf } from '../helpers/kv-events.js';
import { ExtProcClient, requestBody, requestHeaders } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { KV_EVENTS_PORT_ANNOTATION, KV_EVENTS_REPLAY_PORT_ANNOTATION } from '../../src/kvevents/kv-events-settings.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';

const OCTET = 96;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PUB_PORT = 5557;
const REPLAY_PORT = 5559;
/** 128 blocks of 16 tokens per pod: a few long prompts evict the older ones. */
const KV_BLOCKS = 128;

function simOptions(host: string, ports = { pub: PUB_PORT, replay: REPLAY_PORT }, format: 'map' | 'legacy' = 'map') {
  return {
    kvEventsFormat: format,
    model: MODEL,
    ttftMs: 1,
    itlMs: 1,
    kvCacheSize: KV_BLOCKS,
    blockSize: 16,
    kvEventsConfig: parseKvEventsConfig({ enable_kv_cache_events: true, publisher: 'zmq', endpoint: `tcp://*:${ports.pub}`, replay_endpoint: `tcp://*:${ports.replay}`, topic: `kv@${host}@${MODEL}` }),
  };
}

let fleet: Fleet;
let extra: RunningSimulator | undefined;
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;
let xp: RunningExtproc | undefined;
const names = ['p0', 'p1', 'p2'];

function configDocs(pods: readonly { name: string; ip: string; annotations?: Record<string, string> }[]): string {
  const pod = (p: (typeof pods)[number]): string => {
    const y = podYaml(p.name, p.ip, { app: 'llama' });
    return p.annotations ? y.replace('  namespace: default\n', `  namespace: default\n  annotations: ${JSON.stringify(p.annotations)}\n`) : y;
  };
  return [...pods.map(pod), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n');
}

const podsOf = (list: string[]) => list.map((n) => ({ name: n, ip: fleet.ipOf(n) }));
const addressOf = (name: string): string => `${fleet.ipOf(name)}:${fleet.port}`;

async function servedBy(system: string, question: string): Promise<string> {
  const { response } = await client.chat.completions.create(chatBody(MODEL, system, question)).withResponse();
  return response.headers.get('x-inference-pod') ?? '?';
}

before(async () => {
  fleet = await startFleet(OCTET, names.map((name, i) => ({ name, labels: {}, ...simOptions(`127.0.${OCTET}.${i + 2}:0`, undefined, name === 'p2' ? 'legacy' : 'map') })));
  cfg = await tempConfig({ 'all.yaml': configDocs(podsOf(names)) });
  const epp = preciseEppConfig({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT });
  gw = await startTestGateway(cfg.dir, { eppConfig: { text: epp, file: 'precise.yaml' }, kvEvents: { stream: { recoveryMs: 200 } } });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  // Every pod subscribed, connected and its (empty) history replayed.
  assert.ok(await waitFor(() => [...(viewOf(gw)?.feeds() ?? [])].length === 3 && viewOf(gw)!.untrusted().size === 0, 20_000), `the gateway subscribed to every pod: ${JSON.stringify([...(viewOf(gw)?.untrusted() ?? [])])}`);
});

after(async () => {
  await xp?.close();
  await gw?.close();
  await extra?.close();
  await fleet?.close();
  await cfg?.remove();
});

test('a long prompt prefilled on one pod, behind the gateway, is routed back to that pod', async () => {
  const sys = systemPrompt('alpha', 60);
  await direct(fleet.sims.get('p2')!, MODEL, sys, 'first question');
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p2'), sys, MODEL) === 60), 'the gateway saw p2 store the prompt\'s blocks');
  for (let i = 0; i < 6; i++) assert.equal(await servedBy(sys, `question ${i}`), 'p2');
});

test('the gateway follows evictions: blocks a pod evicted stop drawing the prompt there', async () => {
  const sys = systemPrompt('bravo', 60);
  const p1 = fleet.sims.get('p1')!;
  await direct(p1, MODEL, sys, 'q');
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p1'), sys, MODEL) === 60));
  // Three other long prompts need more blocks than p1 has free: bravo's are evicted (BlockRemoved).
  for (const tag of ['c1', 'c2', 'c3']) await direct(p1, MODEL, systemPrompt(tag, 60), 'q');
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p1'), sys, MODEL) === 0), 'the gateway saw the eviction');
});

test('the gateway follows a cache reset (AllBlocksCleared)', async () => {
  const sys = systemPrompt('charlie', 20);
  const p0 = fleet.sims.get('p0')!;
  await direct(p0, MODEL, sys, 'q');
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p0'), sys, MODEL) === 20));
  const res = await fetch(`http://${p0.host}:${p0.port}/reset_prefix_cache`, { method: 'POST' });
  assert.equal(res.status, 200);
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p0'), sys, MODEL) === 0), 'reset cleared the pod in the index');
});

test('an ext_proc picker subscribes too, agrees with the gateway, and picks by the pods\' blocks', async () => {
  xp = await startTestExtproc({ configPath: cfg.dir, eppConfig: { text: preciseEppConfig({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }), file: 'precise.yaml' } });
  const xview = () => xp!.gateway.plugins.kvEvents.views().next().value;
  assert.ok(await waitFor(() => xview()?.untrusted().size === 0 && [...xview()!.feeds()].length === 3, 10_000));
  const sys = systemPrompt('kilo', 30);
  await direct(fleet.sims.get('p1')!, MODEL, sys, 'q');
  // Two replicas, one truth: both indexes converge on what p1 reports.
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p1'), sys, MODEL) === 30 && heldBlocks({ gateway: xp!.gateway } as RunningGateway, addressOf('p1'), sys, MODEL) === 30));
  const xc = new ExtProcClient(`127.0.0.1:${xp.ports.epp}`);
  const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw', 'content-type': 'application/json' };
  const pick = async (q: string): Promise<string> => {
    const s = xc.open().send(requestHeaders(CHAT, false, { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'FULL_DUPLEX_STREAMED' } }), requestBody(JSON.stringify(chatBody(MODEL, sys, q)), true));
    const r = await s.next();
    const h = r.request_headers?.response?.header_mutation?.set_headers?.find((o) => o.header.key === 'x-gateway-destination-endpoint');
    await ended(s);
    return h?.header.raw_value?.toString() ?? '?';
  };
  try {
    // ext_proc waits for the tokenizer as serve does: the very first request of a prefix it never saw is picked by
    // the pods' blocks, not approximately (its own approximate index has never seen this prompt).
    assert.equal(await pick('first'), addressOf('p1'));
    for (let i = 0; i < 4; i++) assert.equal(await pick(`q${i}`), addressOf('p1'));
  } finally {
    xc.close();
  }
});

test('a pod joining is subscribed to and routed to by what it holds; a pod leaving is unsubscribed and forgotten', async () => {
  const host = `127.0.${OCTET}.5`;
  // p3 publishes on other ports than the config's: its annotations name them.
  extra = await startSimulator({ ...simOptions(`${host}:0`, { pub: 5567, replay: 5569 }), host, port: fleet.port, podName: 'p3' });
  await cfg.write('all.yaml', configDocs([...podsOf(['p0', 'p2']), { name: 'p3', ip: host, annotations: { [KV_EVENTS_PORT_ANNOTATION]: '5567', [KV_EVENTS_REPLAY_PORT_ANNOTATION]: '5569' } }]));
  const p3 = `${host}:${fleet.port}`;
  assert.ok(await waitFor(() => viewOf(gw)?.feed(p3) !== undefined && !viewOf(gw)!.untrusted().has(p3), 10_000), 'p3 subscribed');
  assert.ok(await waitFor(() => viewOf(gw)?.feed(addressOf('p1')) === undefined), 'p1 unsubscribed');
  assert.equal(viewOf(gw)!.index.findPod(addressOf('p1')), -1, 'what p1 held is forgotten');
  const sys = systemPrompt('delta', 40);
  await direct(extra, MODEL, sys, 'q');
  assert.ok(await waitFor(() => heldBlocks(gw, p3, sys, MODEL) === 40));
  for (let i = 0; i < 4; i++) assert.equal(await servedBy(sys, `again ${i}`), 'p3');
});

test('the index and the feeds show in the metrics', async () => {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  assert.match(text, /^llm_d_epp_prefix_indexer_size\{plugin_name="precise-prefix-cache-producer",plugin_type="precise-prefix-cache-producer"\} [1-9]\d*$/m);
  assert.match(text, /^llm_d_epp_kv_cache_events_active_subscribers 3$/m);
  assert.match(text, /^infergate_kv_cache_index_capacity 500000$/m);
  assert.match(text, /^llm_d_epp_kv_cache_index_admissions_total [1-9]\d*$/m);
  const hits = /^llm_d_epp_kv_cache_index_lookup_hits_total (\d+)$/m.exec(text)?.[1];
  assert.ok(hits !== undefined && Number(hits) > 0, 'lookups found blocks');
  assert.match(text, new RegExp(`^llm_d_epp_kv_cache_index_max_pod_hit_count_total ${hits}$`, 'm'), 'llm-d\'s twin of lookup_hits_total');
  assert.match(text, new RegExp(`^llm_d_epp_kv_cache_events_messages_received_total\\{pod_identifier="${addressOf('p2').replace(/\./g, '\\.')}"\\} [1-9]\\d*$`, 'm'));
});
