/**
 * A vLLM engine restarted at the same address (a pod restarted with its IP and ports): its sequence numbers start
 * from 0 again and its cache is empty. Against the real simulator, stopped and started again on the same sockets,
 * the index must drop what the old engine held and follow the new one, with a replay socket and without, in the
 * worker and in-thread. Loopback addresses 127.0.218.x are this file's.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../test/helpers/fleet.js';
import { createLogger } from '../logger.js';
import { parseKvEventsConfig } from '../sim/kv-events/kv-events-config.js';
import { startSimulator, type RunningSimulator } from '../sim/simulator.js';
import { postJson } from '../sim/test-kit.js';
import type { KvCacheView } from './kv-cache-view.js';
import { KvEventsHub } from './kv-events-hub.js';
import { defaultKvEventsSettings } from './kv-events-settings.js';

const MODEL = 'restart-model';
const BLOCK = 16;
const PUB_PORT = 5557;
const REPLAY_PORT = 5559;
const HTTP_PORT = 8000;

function simAt(host: string, replay: boolean): Promise<RunningSimulator> {
  return startSimulator({
    model: MODEL, host, port: HTTP_PORT, mode: 'echo', itlMs: 1, blockSize: BLOCK, kvCacheSize: 256,
    kvEventsConfig: parseKvEventsConfig({
      enable_kv_cache_events: true, publisher: 'zmq', endpoint: `tcp://*:${PUB_PORT}`,
      ...(replay ? { replay_endpoint: `tcp://*:${REPLAY_PORT}` } : {}), topic: `kv@${host}:${HTTP_PORT}@${MODEL}`,
    }),
  });
}

const prompt = (i: number): { role: string; content: string }[] => [{ role: 'user', content: `prompt ${i}: `.padEnd(BLOCK * 4 * 6, String.fromCharCode(97 + i)) }];

async function tokensOf(sim: RunningSimulator, messages: unknown): Promise<number[]> {
  const res = await postJson(sim, '/v1/chat/completions/render', { model: MODEL, messages });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token_ids: number[] }).token_ids;
}

async function complete(sim: RunningSimulator, messages: unknown): Promise<void> {
  const res = await postJson(sim, '/v1/chat/completions', { model: MODEL, messages, max_tokens: 1 });
  assert.equal(res.status, 200);
  await res.json();
}

/** Leading blocks of `ids` the view believes the pod at `address` holds. */
function held(view: KvCacheView, address: string, ids: number[]): number {
  const r = view.lookup(view.hasher.keys(ids, MODEL));
  for (let i = 0; i < r.size; i++) if (view.addressOf(r.pods[i]!) === address) return r.matched[i]!;
  return 0;
}

/** Sends `messages` until its blocks are in the index (the SUB socket may join after the first events). */
async function storeUntilHeld(sim: RunningSimulator, view: KvCacheView, address: string, messages: unknown): Promise<number[]> {
  const ids = await tokensOf(sim, messages);
  for (let i = 0; i < 50 && held(view, address, ids) === 0; i++) {
    await complete(sim, messages);
    await waitFor(() => held(view, address, ids) > 0, 200);
  }
  assert.ok(held(view, address, ids) > 0, 'the blocks reached the index');
  return ids;
}

async function restartCase(t: TestContext, host: string, ingestion: 'worker' | 'in-thread', replay: boolean): Promise<void> {
  const address = `${host}:${HTTP_PORT}`;
  const hub = new KvEventsHub({ log: createLogger('error', () => undefined), ingestion, stream: { recoveryMs: 200 } });
  t.after(() => hub.close());
  const view = hub.view(defaultKvEventsSettings({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT, blockSize: BLOCK }));
  let sim = await simAt(host, replay);
  t.after(() => sim.close());
  const owner = { models: new Map([[MODEL, { parent: null }]]) };
  view.sync(new Map([[address, { endpoint: `tcp://${host}:${PUB_PORT}`, ...(replay ? { replayEndpoint: `tcp://${host}:${REPLAY_PORT}` } : {}), owner }]]));
  assert.ok(await waitFor(() => view.untrusted().size === 0, 10_000), `subscribed: ${JSON.stringify([...view.untrusted()])}`);

  const before = [await storeUntilHeld(sim, view, address, prompt(0)), await storeUntilHeld(sim, view, address, prompt(1))];

  // The pod restarts: same address, same ports, a new engine with an empty cache and sequence numbers from 0.
  await sim.close();
  assert.ok(await waitFor(() => view.untrusted().get(address) === 'disconnected', 10_000), 'the disconnection is seen');
  sim = await simAt(host, replay);
  // Once the gateway trusts the pod again, nothing the old engine held may remain: the new cache is empty.
  for (let i = 0; i < 100 && !(view.untrusted().size === 0 && before.every((ids) => held(view, address, ids) === 0)); i++) {
    if (view.untrusted().size === 0) assert.deepEqual(before.map((ids) => held(view, address, ids)), [0, 0], 'trusted again with the old engine\'s blocks');
    await new Promise((r) => setTimeout(r, 50));
    // Without a replay socket only a live message shows what happened: the new engine's first request makes one.
    if (!replay && i % 10 === 5) await complete(sim, prompt(9));
  }
  assert.deepEqual(before.map((ids) => held(view, address, ids)), [0, 0], 'the old engine\'s blocks are gone');
  assert.equal(view.untrusted().size, 0, 'the pod is trusted again');

  // The new engine's blocks are followed.
  await storeUntilHeld(sim, view, address, prompt(2));
  await storeUntilHeld(sim, view, address, prompt(0));
  const f = view.feed(address)!;
  assert.ok((f.problems.get('sequence-reset') ?? 0) >= 1, `counted as a publisher restart: ${JSON.stringify([...f.problems])}`);
}

let octet = 1;
for (const ingestion of ['worker', 'in-thread'] as const) {
  for (const replay of [true, false]) {
    const host = `127.0.218.${octet++}`;
    test(`${ingestion}, ${replay ? 'with' : 'without'} a replay socket: an engine restarted at the same address starts with no blocks in the index`, async (t) => {
      await restartCase(t, host, ingestion, replay);
    });
  }
}
