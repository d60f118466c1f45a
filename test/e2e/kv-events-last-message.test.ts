/**
 * Precise prefix routing sees the whole prompt (issue #14): every pod holds the same system prompt, and one pod also
 * served the same question after it, behind the gateway's back. Only that pod holds the last message's blocks, and
 * only a token-producer that renders the whole request (as llm-d's does) can tell it from the others.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { parseKvEventsConfig } from '../../src/sim/kv-events/kv-events-config.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { chatBody, direct, heldBlocks, preciseEppConfig, systemPrompt, viewOf } from '../helpers/kv-events.js';

const OCTET = 134;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PUB_PORT = 5557;
const names = ['p0', 'p1', 'p2'];

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;

const addressOf = (name: string): string => `${fleet.ipOf(name)}:${fleet.port}`;

before(async () => {
  fleet = await startFleet(OCTET, names.map((name, i) => ({
    name,
    labels: {},
    model: MODEL,
    ttftMs: 1,
    itlMs: 1,
    kvCacheSize: 2048,
    blockSize: 16,
    kvEventsConfig: parseKvEventsConfig({ enable_kv_cache_events: true, publisher: 'zmq', endpoint: `tcp://*:${PUB_PORT}`, topic: `kv@127.0.${OCTET}.${i + 2}:0@${MODEL}` }),
  })));
  const docs = [...names.map((n) => podYaml(n, fleet.ipOf(n), { app: 'llama' })), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])];
  cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  gw = await startTestGateway(cfg.dir, { eppConfig: { text: preciseEppConfig({ socketPort: PUB_PORT }), file: 'precise.yaml' } });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  assert.ok(await waitFor(() => [...(viewOf(gw)?.feeds() ?? [])].length === 3 && viewOf(gw)!.untrusted().size === 0, 20_000), 'the gateway subscribed to every pod');
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

test('a request whose last message only one pod holds is routed to that pod, though every pod holds its system prompt', async () => {
  const sys = systemPrompt('echo', 20);
  // Every pod holds the system prompt's 20 blocks: the prefix alone ties them.
  for (const n of names) await direct(fleet.sims.get(n)!, MODEL, sys, `warm-up on ${n}`);
  assert.ok(await waitFor(() => names.every((n) => heldBlocks(gw, addressOf(n), sys, MODEL) === 20)), 'every pod holds the system prompt');
  // Four rounds, each question (10 blocks) served by one pod behind the gateway's back: a tie broken at random would
  // pick all four right about once in 81 runs.
  const rounds = ['p1', 'p2', 'p0', 'p1'];
  for (const [i, owner] of rounds.entries()) {
    const question = systemPrompt(`question ${i}`, 10);
    await direct(fleet.sims.get(owner)!, MODEL, sys, question);
    assert.ok(await waitFor(() => heldBlocks(gw, addressOf(owner), sys + question, MODEL) === 30), `${owner} holds question ${i}'s blocks`);
    const { response } = await client.chat.completions.create(chatBody(MODEL, sys, question)).withResponse();
    assert.equal(response.headers.get('x-inference-pod'), owner, `question ${i}`);
  }
});
