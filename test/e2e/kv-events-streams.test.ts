/**
 * KV-event streams that misbehave, end to end (issue #14, parts 2 and 4): a gap filled by replay, a connection that
 * drops and comes back (replayed from the last sequence number), bad input and a flood. Each pod's events come from
 * a publisher the test steers, at the pod's own address; its HTTP server is a plain simulator.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import OpenAI from 'openai';
import { createLogger } from '../../src/logger.js';
import { encodeSeq, type BlockStoredEvent } from '../../src/kvevents/wire-format.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { heldBlocks, preciseEppConfig, systemPrompt, tokensOf, viewOf } from '../helpers/kv-events.js';
import { KvTestPublisher } from '../helpers/kv-test-publisher.js';

const OCTET = 97;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PUB_PORT = 5557;
const REPLAY_PORT = 5559;
const names = ['q0', 'q1', 'q2'];

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;
const pubs = new Map<string, KvTestPublisher>();
const logs: string[] = [];
let hashes = 1n << 62n;

const addressOf = (name: string): string => `${fleet.ipOf(name)}:${fleet.port}`;
const feedOf = (name: string) => viewOf(gw)!.feed(addressOf(name))!;

/** A BlockStored of every full block of `text` as the simulator tokenizes it; returns the engine hashes used. */
function stored(text: string): { event: BlockStoredEvent; hashes: bigint[] } {
  const tokens = tokensOf(text);
  const n = Math.floor(tokens.length / 16);
  const hs = Array.from({ length: n }, () => hashes++);
  return {
    hashes: hs,
    event: { type: 'BlockStored', blockHashes: hs, parentBlockHash: null, tokenIds: tokens.slice(0, n * 16), blockSize: 16, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null },
  };
}

async function servedBy(system: string): Promise<string> {
  const { response } = await client.chat.completions.create({ model: MODEL, max_tokens: 2, messages: [{ role: 'system', content: system }, { role: 'user', content: 'q' }] }).withResponse();
  return response.headers.get('x-inference-pod') ?? '?';
}

async function problems(name: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  const re = new RegExp(`^infergate_kv_events_problems_total\\{pod_identifier="${addressOf(name).replace(/\./g, '\\.')}",problem="([a-z-]+)"\\} (\\d+)$`, 'gm');
  for (const m of text.matchAll(re)) out[m[1]!] = Number(m[2]);
  return out;
}

before(async () => {
  fleet = await startFleet(OCTET, names.map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 })));
  for (const n of names) pubs.set(n, await KvTestPublisher.start(fleet.ipOf(n), PUB_PORT, REPLAY_PORT, MODEL));
  cfg = await tempConfig({ 'all.yaml': [...names.map((n) => podYaml(n, fleet.ipOf(n), { app: 'llama' })), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n') });
  gw = await startTestGateway(cfg.dir, {
    eppConfig: { text: preciseEppConfig({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }), file: 'precise.yaml' },
    // Long enough that a loaded CI machine still sees a pod 'recovering' right after its fault; short for the tests that wait it out.
    kvEvents: { stream: { recoveryMs: 2000, floodMessagesPerSecond: 400 } },
    log: createLogger('warn', (line) => logs.push(line)),
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  assert.ok(await waitFor(() => [...(viewOf(gw)?.feeds() ?? [])].length === 3 && viewOf(gw)!.untrusted().size === 0, 20_000), `subscribed to every pod: ${JSON.stringify([...(viewOf(gw)?.untrusted() ?? [])])}`);
});

after(async () => {
  await gw?.close();
  for (const p of pubs.values()) await p.close();
  await fleet?.close();
  await cfg?.remove();
});

test('a gap in the sequence is filled by a replay from the last number applied', async () => {
  const pub = pubs.get('q1')!;
  const s1 = systemPrompt('echo', 12);
  const s2 = systemPrompt('foxtrot', 8);
  const first = stored(s1);
  await pub.publish([first.event]);
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('q1'), s1, MODEL) === 12));
  assert.equal(await servedBy(s1), 'q1');
  // The eviction of s1's first block is never sent live: only the replay socket has it.
  await pub.publish([{ type: 'BlockRemoved', blockHashes: [first.hashes[0]!], medium: 'GPU', groupIdx: null }], false);
  await pub.publish([stored(s2).event]);
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('q1'), s2, MODEL) === 8));
  assert.equal(heldBlocks(gw, addressOf('q1'), s1, MODEL), 0, 'the replayed eviction was applied');
  assert.equal((await problems('q1')).gap, undefined, 'a gap the replay filled is no fault');
  assert.equal(feedOf('q1').stream.untrusted(), undefined);
});

test('a dropped connection comes back by itself and replays what was published meanwhile', async () => {
  const pub = pubs.get('q2')!;
  const s3 = systemPrompt('golf', 10);
  const st = stored(s3);
  await pub.publish([st.event]);
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('q2'), s3, MODEL) === 10));
  pub.stopLive();
  assert.ok(await waitFor(() => feedOf('q2').stream.untrusted() === 'disconnected'), 'the drop is seen');
  await pub.publish([{ type: 'BlockRemoved', blockHashes: [st.hashes[0]!], medium: 'GPU', groupIdx: null }], false);
  await pub.startLive();
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('q2'), s3, MODEL) === 0 && feedOf('q2').stream.untrusted() === undefined, 15_000), 'reconnected and caught up by replay');
  assert.ok(feedOf('q2').reconnectAttempts >= 1 || feedOf('q2').problems.get('disconnected') === 1);
});

test('bad input is counted, logged once per pod, never crashes, and distrusts the pod until it recovers', async () => {
  const pub = pubs.get('q0')!;
  const s4 = systemPrompt('hotel', 10);
  await pub.publish([stored(s4).event]);
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('q0'), s4, MODEL) === 10));
  await pub.raw([pub.topic, encodeSeq(pub.next)]); // two frames
  await pub.raw([pub.topic, encodeSeq(pub.next)]); // again: counted, not logged again
  await pub.raw([pub.topic, Buffer.alloc(4), Buffer.from(encode([0, []]))]); // a short sequence frame
  await pub.publishPayload(Buffer.from(encode([0, [{ type: 'BlockPinned', block_hashes: [1] }, ['AllBlocksClearedSoon']]]))); // unknown event types
  await pub.publishPayload(Buffer.from(encode([0, [['BlockRemoved', [new Uint8Array(32).fill(7)], 'GPU']]]))); // a hash as bytes
  await pub.publishPayload(Buffer.from([0xc1, 0x00, 0xff])); // not msgpack: that batch is lost for good
  assert.ok(await waitFor(async () => (await problems('q0')).msgpack === 1));
  const p = await problems('q0');
  assert.deepEqual([p['frame-count'], p['short-seq'], p['unknown-event-type'], p['hash-as-bytes']], [2, 1, 2, 1]);
  // The lost batch may have held an eviction: what q0 held is dropped, and q0 is scored on the approximate view.
  assert.equal(heldBlocks(gw, addressOf('q0'), s4, MODEL), 0);
  assert.equal(feedOf('q0').stream.untrusted(), 'recovering');
  assert.notEqual(await servedBy(s4), '?', 'the gateway still serves');
  assert.equal(logs.filter((l) => l.includes(addressOf('q0')) && l.includes('frame-count')).length, 1, 'logged once');
  assert.ok(await waitFor(() => feedOf('q0').stream.untrusted() === undefined), 'recovers');
  // And follows the stream again.
  const s5 = systemPrompt('india', 6);
  await pub.publish([stored(s5).event]);
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('q0'), s5, MODEL) === 6));
});

test('a flooding pod is cut off unread and comes back once it calms down', async () => {
  const pub = pubs.get('q1')!;
  const s6 = systemPrompt('juliet', 6);
  await pub.publish([stored(s6).event]);
  assert.ok(await waitFor(() => heldBlocks(gw, addressOf('q1'), s6, MODEL) === 6));
  for (let i = 0; i < 1200; i++) await pub.publish([{ type: 'BlockRemoved', blockHashes: [1n], medium: 'GPU', groupIdx: null }]);
  assert.ok(await waitFor(async () => ((await problems('q1')).flood ?? 0) > 0), 'the flood is counted');
  assert.equal(heldBlocks(gw, addressOf('q1'), s6, MODEL), 0, 'what the flooding pod held is dropped');
  assert.ok(await waitFor(() => feedOf('q1').stream.untrusted() === undefined, 8000), 'calm again, it is trusted');
  assert.ok(logs.some((l) => l.includes(addressOf('q1')) && l.includes('flood')));
});
