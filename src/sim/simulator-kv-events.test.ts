/**
 * The simulator publishes KV events as vLLM does: a SUB client on loopback sees BlockStored with the prompt's
 * token ids and chained hashes, then the blocks that fill while decoding, BlockRemoved under eviction,
 * AllBlocksCleared on reset, and replays from a sequence number. Loopback addresses 127.0.94.x, 127.0.95.x,
 * 127.0.153.x and 127.0.161.x are this file's.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '@msgpack/msgpack';
import type { BlockStoredEvent, KvCacheEvent } from '../kvevents/wire-format.js';
import type { RunningSimulator, SimulatorOptions } from './simulator.js';
import { parseKvEventsConfig } from './kv-events/kv-events-config.js';
import { KvEventTap, eventually, replayFrom } from './kv-events/kv-events-test-kit.js';
import { blockHashes } from './prefix-hash.js';
import { startSimulator } from './simulator.js';
import { postJson, readSse } from './test-kit.js';
import { BlockIndex } from '../kvevents/block-index.js';
import { BlockKeyHasher } from '../kvevents/block-key.js';
import { KvEventIngestor } from '../kvevents/event-ingestor.js';
import { TokenizedPrompt } from '../epp/plugins/tokenized-prompt.js';

const MODEL = 'base-model';
const BLOCK = 16;
/** 128 characters = 32 tokens = exactly 2 blocks, so prompts sharing it share 2 blocks. */
const SYSTEM = 'You are a terse assistant. Answer in one short sentence, cite nothing, and never ask a question back to the user. Be kind. OK?!'.padEnd(128, '.');

async function kvSim(t: TestContext, host: string, opts: Partial<SimulatorOptions> = {}, config: Record<string, unknown> = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({
    model: MODEL, host, port: 0, mode: 'echo', itlMs: 1, blockSize: BLOCK, kvCacheSize: 64, ...opts,
    kvEventsConfig: parseKvEventsConfig({
      enable_kv_cache_events: true, publisher: 'zmq', endpoint: `tcp://${host}:*`, replay_endpoint: `tcp://${host}:*`,
      topic: `kv@${host}:8000@${MODEL}`, ...config,
    }),
  });
  t.after(() => sim.close());
  return sim;
}

function chat(system: string, user: string): { role: string; content: string }[] {
  return [{ role: 'system', content: system }, { role: 'user', content: user }];
}

async function complete(sim: RunningSimulator, messages: unknown, maxTokens = 1): Promise<void> {
  const res = await postJson(sim, '/v1/chat/completions', { model: MODEL, messages, max_tokens: maxTokens });
  assert.equal(res.status, 200);
  await res.json();
}

async function render(sim: RunningSimulator, messages: unknown): Promise<number[]> {
  const res = await postJson(sim, '/v1/chat/completions/render', { model: MODEL, messages });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { token_ids: number[]; request_id: string; model: string; features: unknown; sampling_params: { max_tokens: number } };
  assert.match(body.request_id, /^chatcmpl-[0-9a-f]{32}$/);
  assert.equal(body.model, MODEL);
  assert.equal(body.features, null);
  return body.token_ids;
}

/** Sends distinct requests until the SUB socket hears the first batch (ZMQ's slow joiner: earlier ones are lost). */
async function warmUp(sim: RunningSimulator, tap: KvEventTap): Promise<void> {
  for (let i = 0; i < 200 && tap.messages.length === 0; i++) {
    await complete(sim, [{ role: 'user', content: `warm-up ${i} `.padEnd(BLOCK * 4, '~') }]);
    await new Promise((r) => setTimeout(r, 10));
  }
  await eventually(() => tap.messages.length > 0, 'the first KV event');
}

const events = (tap: KvEventTap, from = 0): KvCacheEvent[] => tap.messages.slice(from).flatMap((m) => m.message.batch.events);
const stored = (tap: KvEventTap, from = 0): BlockStoredEvent[] => events(tap, from).filter((e): e is BlockStoredEvent => e.type === 'BlockStored');

test('BlockStored carries the rendered prompt\'s token ids in blocks, with hashes chained from the parent', async (t) => {
  const sim = await kvSim(t, '127.0.94.1');
  const tap = KvEventTap.connect(sim.kvEvents!.endpoint);
  t.after(() => tap.close());
  await warmUp(sim, tap);

  const first = chat(SYSTEM, 'What is the capital of France, in one word?');
  const ids = await render(sim, first);
  const tokenized = (await (await postJson(sim, '/tokenize', { model: MODEL, messages: first })).json()) as { tokens: number[] };
  assert.deepEqual(ids, tokenized.tokens, 'render and /tokenize agree');
  const mark = tap.messages.length;
  await complete(sim, first);
  const full = Math.floor(ids.length / BLOCK);
  await eventually(() => stored(tap, mark).reduce((n, e) => n + e.blockHashes.length, 0) >= full, `${full} stored blocks`);
  const got = stored(tap, mark);
  assert.equal(got[0]!.parentBlockHash, null, 'the prompt\'s first block has no parent');
  assert.deepEqual(got.flatMap((e) => e.tokenIds), ids.slice(0, full * BLOCK), 'the blocks hold the rendered ids, partial block left out');
  const hashes = got.flatMap((e) => e.blockHashes);
  assert.deepEqual(hashes, blockHashes(ids, BLOCK, full, null), 'hashes follow the documented recipe');
  for (const e of got) {
    assert.equal(e.tokenIds.length, e.blockHashes.length * BLOCK);
    assert.deepEqual([e.blockSize, e.medium, e.loraName, e.loraId, e.groupIdx, e.kvCacheSpecKind], [BLOCK, 'GPU', null, null, 0, 'full_attention']);
  }
  for (let i = 1; i < got.length; i++) assert.equal(got[i]!.parentBlockHash, got[i - 1]!.blockHashes.at(-1), 'each run chains on the last');

  // A second user turn under the same system prompt stores only its new blocks, chained on the shared ones.
  const mark2 = tap.messages.length;
  const second = chat(SYSTEM, 'And the capital of Italy? Reply with the name of the city alone.');
  const ids2 = await render(sim, second);
  await complete(sim, second);
  await eventually(() => stored(tap, mark2).length > 0, 'the second prompt\'s blocks');
  const next = stored(tap, mark2)[0]!;
  assert.equal(next.parentBlockHash, hashes[1], 'the shared system prompt is two cached blocks');
  assert.deepEqual(next.tokenIds.slice(0, BLOCK), ids2.slice(2 * BLOCK, 3 * BLOCK));

  // The frames: topic, 8-byte big-endian seq counting up by one, msgpack [ts, events as maps with "type", dp_rank].
  const seqs = tap.messages.map((m) => m.message.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i), 'no gaps');
  const { frames } = tap.messages.at(-1)!;
  assert.equal(frames[0]!.toString(), `kv@127.0.94.1:8000@${MODEL}`);
  assert.equal(frames[1]!.length, 8);
  const raw = decode(frames[2]!, { useBigInt64: true }) as [number, Record<string, unknown>[], number];
  assert.equal(raw.length, 3);
  assert.equal(raw[2], 0, 'data-parallel rank 0');
  assert.equal(Object.keys(raw[1][0]!)[0], 'type');
  assert.ok(Math.abs(raw[0] - Date.now() / 1000) < 60, 'ts is seconds since the epoch');
});

test('eviction sends BlockRemoved for blocks stored earlier; a reset sends AllBlocksCleared (409 while requests run)', async (t) => {
  // Random mode talks until max_tokens: the request below runs 100 steps of 20 ms, long after the reset is sent
  // (echo mode would answer its one-word prompt in one token, and race the reset).
  const sim = await kvSim(t, '127.0.94.2', { itlMs: 20, mode: 'random' });
  const tap = KvEventTap.connect(sim.kvEvents!.endpoint);
  t.after(() => tap.close());
  await warmUp(sim, tap);
  // The warm-up's first blocks may have been published before the subscription joined (ZMQ drops those): clear the
  // cache, so that every block evicted below was stored where the tap could see it.
  const cleared = await fetch(`${sim.url}/reset_prefix_cache`, { method: 'POST' });
  assert.equal(cleared.status, 200);
  await cleared.arrayBuffer();
  await eventually(() => events(tap).some((e) => e.type === 'AllBlocksCleared'), 'the warm-up cleared');
  const mark = tap.messages.length;
  // 64 blocks in all; five distinct 20-block prompts cannot all stay cached.
  for (let i = 0; i < 5; i++) await complete(sim, [{ role: 'user', content: `prompt ${i} `.padEnd(20 * BLOCK * 4, String(i)) }]);
  await eventually(() => events(tap, mark).some((e) => e.type === 'BlockRemoved'), 'a BlockRemoved');
  const everStored = new Set(stored(tap).flatMap((e) => e.blockHashes));
  const removed = events(tap, mark).flatMap((e) => (e.type === 'BlockRemoved' ? e.blockHashes : []));
  assert.ok(removed.length >= 20, `${removed.length} blocks removed`);
  for (const h of removed) assert.ok(everStored.has(h), `removed ${h} was stored before`);

  const running = postJson(sim, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(200) }], max_tokens: 100 });
  await eventually(() => sim.stats().running === 1, 'a running request');
  const refused = await fetch(`${sim.url}/reset_prefix_cache`, { method: 'POST' });
  assert.equal(refused.status, 409);
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, /reset_running_requests=true/);
  const markReset = tap.messages.length;
  const forced = await fetch(`${sim.url}/reset_prefix_cache?reset_running_requests=true`, { method: 'POST' });
  assert.equal(forced.status, 200);
  await forced.arrayBuffer();
  await eventually(() => events(tap, markReset).some((e) => e.type === 'AllBlocksCleared'), 'AllBlocksCleared');
  const res = await running;
  assert.equal(res.status, 200, 'the preempted request recomputes and finishes');
  await res.json();
  const idle = await fetch(`${sim.url}/reset_prefix_cache`, { method: 'POST' });
  assert.equal(idle.status, 200);
  await idle.arrayBuffer();
});

test('the ROUTER replays buffered batches from a sequence number, then the end marker', async (t) => {
  const sim = await kvSim(t, '127.0.94.3', {}, { buffer_steps: 1000 });
  const tap = KvEventTap.connect(sim.kvEvents!.endpoint);
  t.after(() => tap.close());
  await warmUp(sim, tap);
  for (let i = 0; i < 3; i++) await complete(sim, chat(SYSTEM, `question ${i} `.padEnd(BLOCK * 8, '?')));
  await eventually(() => stored(tap).length >= 4, 'stored events');
  const last = tap.messages.at(-1)!.message.seq;

  const all = await replayFrom(sim.kvEvents!.replayEndpoint!, 0);
  assert.equal(all[0]!.seq, 0, 'batches the SUB socket missed while joining are still there');
  assert.ok(all.at(-1)!.seq >= last);
  assert.deepEqual(all.map((r) => r.seq), all.map((_, i) => i));
  assert.equal(all[0]!.topic, null, 'vLLM replays [seq, payload] without the topic');
  for (const { message } of tap.messages) {
    const replayed = all[message.seq]!;
    assert.deepEqual(replayed.batch, message.batch, `seq ${message.seq} replays what was published`);
  }
  const tail = await replayFrom(sim.kvEvents!.replayEndpoint!, last);
  assert.equal(tail[0]!.seq, last);
  assert.deepEqual(await replayFrom(sim.kvEvents!.replayEndpoint!, last + 1000), [], 'nothing that new: just the end marker');
});

test('legacy encoding: tagged arrays with trailing defaults omitted; a LoRA\'s blocks carry its name', async (t) => {
  const sim = await kvSim(t, '127.0.94.4', { kvEventsFormat: 'legacy', loras: ['sql-lora'] });
  const tap = KvEventTap.connect(sim.kvEvents!.endpoint);
  t.after(() => tap.close());
  await warmUp(sim, tap);
  const mark = tap.messages.length;
  const messages = chat(SYSTEM, 'List the tables.');
  const res = await postJson(sim, '/v1/chat/completions', { model: 'sql-lora', messages, max_tokens: 1 });
  assert.equal(res.status, 200);
  await res.json();
  await eventually(() => stored(tap, mark).some((e) => e.loraName === 'sql-lora'), 'the adapter\'s blocks');
  const ids = await render(sim, messages);
  const e = stored(tap, mark).find((x) => x.loraName === 'sql-lora')!;
  assert.deepEqual(e.tokenIds.slice(0, BLOCK), ids.slice(0, BLOCK));
  assert.equal(e.blockHashes[0], blockHashes(ids, BLOCK, 1, 'sql-lora')[0], 'the adapter is in the hash');
  assert.equal(e.loraId, 1);

  const frame = tap.messages.slice(mark).find((m) => m.message.batch.events.some((x) => x.type === 'BlockStored'))!.frames[2]!;
  const raw = decode(frame, { useBigInt64: true }) as [number, unknown[][], number];
  const first = raw[1].find((x) => x[0] === 'BlockStored')!;
  assert.equal(first.length, 8, '[tag, block_hashes, parent, token_ids, block_size, lora_id, medium, lora_name]');
  assert.deepEqual([first[4], first[5], first[6], first[7]], [BLOCK, 1, 'GPU', 'sql-lora']);
  assert.equal(typeof (first[1] as unknown[])[0], 'bigint', 'hashes are 64-bit integers');
});

test('an endpoint without * connects, for a subscriber that binds (central mode)', async (t) => {
  const { tap, endpoint } = await KvEventTap.bind('tcp://127.0.95.1:*');
  t.after(() => tap.close());
  const sim = await kvSim(t, '127.0.95.2', {}, { endpoint, replay_endpoint: null });
  assert.equal(sim.kvEvents!.endpoint, endpoint);
  assert.equal(sim.kvEvents!.replayEndpoint, null);
  await warmUp(sim, tap);
  assert.ok(tap.messages[0]!.message.topic.startsWith('kv@127.0.95.2'));
});

test('decode blocks: a 40-token reply stores 2 blocks chained on the last prompt block; the chat continuation hits them', async (t) => {
  const sim = await kvSim(t, '127.0.153.1', { mode: 'random' });
  const tap = KvEventTap.connect(sim.kvEvents!.endpoint);
  t.after(() => tap.close());
  await warmUp(sim, tap);

  for (const stream of [true, false]) {
    // 32 + 16 = 48 prompt tokens, 3 blocks; 40 more fill blocks at 64 and 80 (88, the last token's, is never computed).
    const first = chat(SYSTEM, `Tell me about caches (stream ${stream}). `.padEnd(BLOCK * 4, '.'));
    const ids = await render(sim, first);
    assert.equal(ids.length, 3 * BLOCK);
    const mark = tap.messages.length;
    const res = await postJson(sim, '/v1/chat/completions', { model: MODEL, messages: first, max_tokens: 40, stream });
    assert.equal(res.status, 200);
    let reply = '';
    if (stream) {
      for (const e of (await readSse(res)).slice(0, -1)) {
        reply += (JSON.parse(e.data) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '';
      }
    } else {
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
      assert.equal(body.usage.completion_tokens, 40);
      reply = body.choices[0]!.message.content;
    }
    const promptHashes = blockHashes(ids, BLOCK, 3, null);
    const decodeOf = (from: number): BlockStoredEvent[] => stored(tap, from).filter((e) => !e.blockHashes.some((h) => promptHashes.includes(h)));
    await eventually(() => decodeOf(mark).reduce((n, e) => n + e.blockHashes.length, 0) >= 2, `2 decode blocks (stream ${stream})`);
    const decode = decodeOf(mark);
    assert.deepEqual(decode.map((e) => e.blockHashes.length), [1, 1], 'one block per step, as each fills');
    assert.equal(decode[0]!.parentBlockHash, promptHashes[2], 'chained on the last prompt block');
    assert.equal(decode[1]!.parentBlockHash, decode[0]!.blockHashes[0]);

    // The client sends the reply back: the rendered continuation holds the decode blocks' ids at their positions.
    const next = [...first, { role: 'assistant', content: reply }, { role: 'user', content: 'And in one word? '.padEnd(BLOCK * 4, '?') }];
    const nextIds = await render(sim, next);
    assert.deepEqual(decode.flatMap((e) => e.tokenIds), nextIds.slice(3 * BLOCK, 5 * BLOCK), 'the reply round-trips through the tokenizer');
    assert.deepEqual(decode.flatMap((e) => e.blockHashes), blockHashes(nextIds, BLOCK, 5, null).slice(3), 'hashes follow the documented recipe');
    const markNext = tap.messages.length;
    await complete(sim, next);
    await eventually(() => stored(tap, markNext).length > 0, 'the continuation\'s new blocks');
    assert.equal(stored(tap, markNext)[0]!.parentBlockHash, decode[1]!.blockHashes[0], 'the continuation computes only what follows the cached decode blocks');
  }
});

test('hwm 0 and max_queue_size 0 (no limits, as in ZMQ and vLLM) publish; buffer_steps 0 replays only the end marker', async (t) => {
  const sim = await kvSim(t, '127.0.161.1', {}, { hwm: 0, max_queue_size: 0, buffer_steps: 0 });
  const tap = KvEventTap.connect(sim.kvEvents!.endpoint);
  t.after(() => tap.close());
  await warmUp(sim, tap);
  for (let i = 0; i < 3; i++) await complete(sim, chat(SYSTEM, `question ${i} `.padEnd(BLOCK * 8, '?')));
  await eventually(() => stored(tap).length >= 3, 'stored events');
  assert.deepEqual(await replayFrom(sim.kvEvents!.replayEndpoint!, 0), [], 'nothing buffered');
});

test('cache_salt: block 0 hashes and lists the salt, so a salted prompt is cached apart and a gateway\'s salted keys match it', async (t) => {
  const sim = await kvSim(t, '127.0.161.2');
  const tap = KvEventTap.connect(sim.kvEvents!.endpoint);
  t.after(() => tap.close());
  await warmUp(sim, tap);
  const messages = chat(SYSTEM, 'Which tenant am I? '.padEnd(BLOCK * 4, '?'));
  const ids = await render(sim, messages);
  const full = Math.floor(ids.length / BLOCK);

  const salted = async (salt: string | undefined): Promise<BlockStoredEvent[]> => {
    const mark = tap.messages.length;
    const res = await postJson(sim, '/v1/chat/completions', { model: MODEL, messages, max_tokens: 1, ...(salt ? { cache_salt: salt } : {}) });
    assert.equal(res.status, 200);
    await res.json();
    await eventually(() => stored(tap, mark).reduce((n, e) => n + e.blockHashes.length, 0) >= full, `the prompt's blocks (salt ${salt})`);
    return stored(tap, mark);
  };
  const plain = await salted(undefined);
  const a = await salted('tenant-a');
  // The same prompt under a salt is stored again, from block 0: nothing is shared with the unsalted copy.
  assert.equal(a[0]!.parentBlockHash, null);
  assert.deepEqual(a.flatMap((e) => e.blockHashes), blockHashes(ids, BLOCK, full, null, 0, undefined, 'tenant-a'));
  assert.notEqual(a[0]!.blockHashes[0], plain[0]!.blockHashes[0]);
  assert.deepEqual(a[0]!.extraKeys![0], ['tenant-a'], 'vLLM lists the salt in block 0\'s extra keys');
  assert.deepEqual(a[0]!.extraKeys!.slice(1), a[0]!.extraKeys!.slice(1).map(() => null));
  assert.equal(plain[0]!.extraKeys![0], null);

  // What a gateway makes of it: the salted store matches the salted request's keys, and only those.
  const hasher = new BlockKeyHasher({ blockSize: BLOCK, hashSeed: '' });
  const index = new BlockIndex({ capacity: 1000, podsPerKey: 10 });
  const pod = index.podId('sim');
  new KvEventIngestor(hasher, index, { engineCapacity: 1000 }).apply(pod, MODEL, { ts: 0, events: a, dataParallelRank: null }, (p) => assert.fail(p));
  const held = (salt: string): number => {
    const r = index.lookup(new TokenizedPrompt(Uint32Array.from(ids), salt).keys(hasher, MODEL));
    return r.size === 0 ? 0 : r.matched[0]!;
  };
  assert.equal(held('tenant-a'), full);
  assert.equal(held('tenant-b'), 0);
  assert.equal(held(''), 0);

  const bad = await postJson(sim, '/v1/chat/completions', { model: MODEL, messages, max_tokens: 1, cache_salt: '' });
  assert.equal(bad.status, 400);
  assert.deepEqual(((await bad.json()) as { error: { message: string; param: string } }).error, { message: "Parameter 'cache_salt' must be a non-empty string if provided.", type: 'BadRequestError', param: 'cache_salt', code: 400 });
});
