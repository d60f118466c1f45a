/**
 * A model server restarted at the same address (its pod keeps its IP and ports; the engine comes back with an empty
 * cache and KV-event numbers from 0), end to end: the gateway stops routing a prompt there for blocks the old
 * engine held, routes it to the pod that still holds part of it, and follows the new engine's blocks. Loopback
 * 127.0.218.10-11, this file's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator.js';
import { parseKvEventsConfig } from '../../src/sim/kv-events/kv-events-config.js';
import { baseModelRouteYaml, podYaml, poolYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { chatBody, direct, heldBlocks, preciseEppConfig, systemPrompt, viewOf } from '../helpers/kv-events.js';

const MODEL = 'restart-model';
const PORT = 8100;
const PUB_PORT = 5557;
const REPLAY_PORT = 5559;
const hosts = { p0: '127.0.218.10', p1: '127.0.218.11' } as const;
type Name = keyof typeof hosts;

function startPod(name: Name): Promise<RunningSimulator> {
  const host = hosts[name];
  return startSimulator({
    model: MODEL, host, port: PORT, podName: name, ttftMs: 1, itlMs: 1, kvCacheSize: 256, blockSize: 16,
    kvEventsConfig: parseKvEventsConfig({ enable_kv_cache_events: true, publisher: 'zmq', endpoint: `tcp://*:${PUB_PORT}`, replay_endpoint: `tcp://*:${REPLAY_PORT}`, topic: `kv@${host}:${PORT}@${MODEL}` }),
  });
}

const sims = new Map<Name, RunningSimulator>();
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;
const addressOf = (name: Name): string => `${hosts[name]}:${PORT}`;

async function servedBy(system: string, question: string): Promise<string> {
  const { response } = await client.chat.completions.create(chatBody(MODEL, system, question)).withResponse();
  return response.headers.get('x-inference-pod') ?? '?';
}

before(async () => {
  for (const name of ['p0', 'p1'] as const) sims.set(name, await startPod(name));
  const docs = [podYaml('p0', hosts.p0, { app: 'r' }), podYaml('p1', hosts.p1, { app: 'r' }), poolYaml('r', { app: 'r' }, PORT), baseModelRouteYaml('r', MODEL, [['r', 1]])];
  cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  gw = await startTestGateway(cfg.dir, { eppConfig: { text: preciseEppConfig({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }), file: 'precise.yaml' }, kvEvents: { stream: { recoveryMs: 200 } } });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  assert.ok(await waitFor(() => [...(viewOf(gw)?.feeds() ?? [])].length === 2 && viewOf(gw)!.untrusted().size === 0, 20_000), 'subscribed to both pods');
});

after(async () => {
  await gw?.close();
  for (const s of sims.values()) await s.close();
  await cfg?.remove();
});

test('a pod restarted at the same address no longer draws a prompt its old engine held; its new blocks are followed', async () => {
  const long = systemPrompt('restart', 20);
  const half = systemPrompt('restart', 10);
  // p0 holds the whole prompt, p1 its first half.
  await direct(sims.get('p0')!, MODEL, long, 'q0');
  await direct(sims.get('p1')!, MODEL, half, 'q1');
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p0'), long, MODEL) === 20 && heldBlocks(gw, addressOf('p1'), long, MODEL) === 10, 10_000), 'both pods\' blocks are in the index');
  assert.equal(await servedBy(long, 'before'), 'p0');

  // p0's engine restarts: same IP, same ports, an empty cache.
  await sims.get('p0')!.close();
  const view = viewOf(gw)!;
  assert.ok(await waitFor(() => view.untrusted().get(addressOf('p0')) === 'disconnected', 10_000), 'the drop is seen');
  sims.set('p0', await startPod('p0'));
  assert.ok(await waitFor(() => view.untrusted().size === 0, 15_000), `p0 is trusted again: ${JSON.stringify([...view.untrusted()])}`);
  assert.equal(heldBlocks(gw, addressOf('p0'), long, MODEL), 0, 'nothing of the old engine\'s cache is believed');
  assert.equal(await servedBy(long, 'after'), 'p1', 'the prompt goes where half of it still is');

  // The new engine's blocks are followed from its first event on.
  const other = systemPrompt('fresh', 12);
  await direct(sims.get('p0')!, MODEL, other, 'q2');
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('p0'), other, MODEL) === 12, 10_000), 'the restarted engine\'s blocks reach the index');
  assert.equal(await servedBy(other, 'again'), 'p0');
});
