/**
 * The precise prefix index (issue #14, part 3): lookup latency for a 4,000-token prompt at 1,000 endpoints, the
 * whole producer + scorer step a request pays, block-key hashing, ingestion throughput on one core, and, on their
 * own, tokenization over loopback by a simulated pod's render endpoint. A program, not a test: prints figures.
 *
 *   npx tsc -p . && node dist/bench/kv-index.js [--lookups 20000] [--endpoints 1000] [--groups 400] [--no-tokenize]
 *
 * The index is filled as a fleet fills it: `groups` 4,000-token prompts, each held by 1-3 pods to random depths,
 * the first 32 blocks of every prompt also stored by every pod (a universal system prompt: podCacheSize caps a key
 * at 10 pods), and 400 unrelated blocks per pod. Ingestion replays vLLM-shaped BlockStored/BlockRemoved batches
 * (msgpack frames through the decoder and the stream, as a subscription feeds them).
 */
import { cpus, loadavg } from 'node:os';
import { KvCacheView } from '../src/kvevents/kv-cache-view.js';
import { defaultKvEventsSettings } from '../src/kvevents/kv-events-settings.js';
import type { BlockKeys } from '../src/kvevents/block-key.js';
import { ReplayLimiter } from '../src/kvevents/zmq-subscription.js';
import { PodStream } from '../src/kvevents/pod-stream.js';
import { encodeKvEventMessage, type BlockStoredEvent, type KvCacheEvent } from '../src/kvevents/wire-format.js';
import { createLogger } from '../src/logger.js';
import { seededRandom } from '../src/seeded-random.js';
import { context, endpoint, request } from '../src/epp/framework/test-fixtures.js';
import { PrecisePrefixCacheProducer } from '../src/epp/plugins/precise-prefix-cache-producer.js';
import { PrefixCacheScorer } from '../src/epp/plugins/prefix-cache-scorer.js';
import { TOKENIZED_PROMPT_KEY, TokenizedPrompt } from '../src/epp/plugins/tokenized-prompt.js';
import { RenderClient } from '../src/epp/plugins/render-client.js';
import { startSimulator } from '../src/sim/simulator.js';
import { benchArgs, positiveFlag } from './lib/bench-args.js';

const { values } = benchArgs({ options: { lookups: { type: 'string', default: '20000' }, endpoints: { type: 'string', default: '1000' }, groups: { type: 'string', default: '400' }, 'no-tokenize': { type: 'boolean', default: false } } });

const LOOKUPS = positiveFlag(values, 'lookups');
const ENDPOINTS = positiveFlag(values, 'endpoints');
const GROUPS = positiveFlag(values, 'groups');
const PROMPT_TOKENS = 4000;
const BS = 16;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const rand = seededRandom(14);

function pct(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  const mean = s.reduce((x, y) => x + y, 0) / Math.max(1, s.length);
  return `p50 ${at(0.5).toFixed(2)}  p90 ${at(0.9).toFixed(2)}  p99 ${at(0.99).toFixed(2)}  max ${(s.at(-1) ?? 0).toFixed(1)}  mean ${mean.toFixed(2)} µs`;
}

const randomTokens = (n: number): Uint32Array => Uint32Array.from({ length: n }, () => 1 + Math.floor(rand() * 150_000));

let nextHash = 1n << 60n;
function storedEvent(tokens: ArrayLike<number>, from: number, blocks: number, parent: bigint | null): { event: BlockStoredEvent; hashes: bigint[] } {
  const hashes = Array.from({ length: blocks }, () => nextHash++);
  const tokenIds = Array.from({ length: blocks * BS }, (_, i) => tokens[from * BS + i] as number);
  return { hashes, event: { type: 'BlockStored', blockHashes: hashes, parentBlockHash: parent, tokenIds, blockSize: BS, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null } };
}

async function main(): Promise<void> {
  console.log(`kv-index bench: ${ENDPOINTS} endpoints, ${GROUPS} prompts of ${PROMPT_TOKENS} tokens (${PROMPT_TOKENS / BS} blocks); node ${process.version}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, load ${loadavg()[0]?.toFixed(2)}`);
  const view = new KvCacheView(defaultKvEventsSettings({ capacity: 2_000_000 }), { log: createLogger('silent'), limiter: new ReplayLimiter() });
  const eps = Array.from({ length: ENDPOINTS }, (_, i) => endpoint(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).build());
  // Feeds as a running gateway has them (no sockets here), every one connected and trusted.
  view.sync(new Map(eps.map((e) => [e.address, { endpoint: '', owner: e }])));
  for (const f of view.feeds()) (f.stream as PodStream).connected();
  const podIds = eps.map((e) => view.index.podId(e.address));
  const apply = (pod: number, events: KvCacheEvent[]): void => view.ingestor.apply(pod, MODEL, { ts: 0, events, dataParallelRank: null }, () => undefined);

  // Fill: per group, its first 32 blocks on every pod; then 1-3 holders to random depths; then noise.
  const prompts = Array.from({ length: GROUPS }, () => randomTokens(PROMPT_TOKENS));
  const t0 = performance.now();
  for (const tokens of prompts) {
    for (const pod of podIds) apply(pod, [storedEvent(tokens, 0, 32, null).event]);
    const holders = 1 + Math.floor(rand() * 3);
    for (let h = 0; h < holders; h++) {
      const depth = 32 + Math.floor(rand() * (PROMPT_TOKENS / BS - 32));
      apply(podIds[Math.floor(rand() * ENDPOINTS)]!, [storedEvent(tokens, 0, depth, null).event]);
    }
  }
  for (const pod of podIds) apply(pod, [storedEvent(randomTokens(400 * BS), 0, 400, null).event]);
  console.log(`filled in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${view.index.size} keys, ${view.index.holdings} pod entries, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, typed arrays ${(process.memoryUsage().arrayBuffers / 2 ** 20).toFixed(0)} MiB (index and engine-hash maps)`);

  // Block keys of a 4,000-token prompt, uncached (a new prefix); cached ones cost a Map read.
  const keySamples: number[] = [];
  const keyed: BlockKeys[] = [];
  for (let i = 0; i < 2000; i++) {
    const tokens = prompts[i % GROUPS]!;
    const t = performance.now();
    keyed.push(view.hasher.keys(tokens, MODEL));
    keySamples.push((performance.now() - t) * 1000);
  }
  console.log(`block keys of a ${PROMPT_TOKENS}-token prompt (uncached):     ${pct(keySamples.slice(200))}`);

  // Index lookup alone.
  const lookSamples: number[] = [];
  let matched = 0;
  for (let i = 0; i < LOOKUPS; i++) {
    const keys = keyed[Math.floor(rand() * keyed.length)]!;
    const t = performance.now();
    const r = view.lookup(keys);
    lookSamples.push((performance.now() - t) * 1000);
    matched += r.size;
  }
  console.log(`index lookup, ${PROMPT_TOKENS} tokens at ${ENDPOINTS} endpoints:       ${pct(lookSamples.slice(1000))}  (${(matched / LOOKUPS).toFixed(1)} pods matched on average)`);

  // What a request pays: the producer (keys from the token cache's prompt, lookup, match info) and the scorer over every candidate.
  const producer = new PrecisePrefixCacheProducer('ppc', view.settings, { enabled: false, ttlMs: 2000 });
  producer.bindView(view);
  const scorer = new PrefixCacheScorer('prefix-cache-scorer', { prefixMatchInfoProducerName: 'ppc' });
  const cachedPrompts = prompts.map((p) => new TokenizedPrompt(p));
  const reqSamples: number[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const ctx = context(request({ model: MODEL, prompt: 'x' }));
    ctx.state.write(TOKENIZED_PROMPT_KEY, cachedPrompts[Math.floor(rand() * GROUPS)]!);
    const t = performance.now();
    producer.produce(ctx, eps);
    scorer.score(ctx, eps);
    reqSamples.push((performance.now() - t) * 1000);
  }
  console.log(`producer + scorer per request (tokens cached), ${ENDPOINTS} candidates: ${pct(reqSamples.slice(1000))}`);

  // Ingestion on one core: vLLM-shaped steps (a store of 1-16 blocks, an eviction now and then) as encoded frames.
  const ingView = new KvCacheView(defaultKvEventsSettings({ capacity: 2_000_000 }), { log: createLogger('silent'), limiter: new ReplayLimiter() });
  const frames: Buffer[][] = [];
  let blocks = 0;
  let lastHashes: bigint[] = [];
  const tokens = randomTokens(1 << 16);
  for (let seq = 0; frames.length < 20_000; seq++) {
    const events: KvCacheEvent[] = [];
    for (let e = 0; e < 4; e++) {
      const n = 1 + Math.floor(rand() * 16);
      const from = Math.floor(rand() * (tokens.length / BS - n));
      const s = storedEvent(tokens, from, n, null);
      events.push(s.event);
      blocks += n;
      if (lastHashes.length > 0 && rand() < 0.5) {
        events.push({ type: 'BlockRemoved', blockHashes: lastHashes.slice(0, 4), medium: 'GPU', groupIdx: null });
        blocks += Math.min(4, lastHashes.length);
      }
      lastHashes = s.hashes;
    }
    frames.push(encodeKvEventMessage(`kv@10.0.0.1:8000@${MODEL}`, seq, { ts: seq, events, dataParallelRank: null }));
  }
  const pod = ingView.index.podId('10.0.0.1:8000');
  const stream = new PodStream({ apply: (_t, b) => ingView.ingestor.apply(pod, MODEL, b, () => undefined), clear: () => undefined, replay: () => undefined, problem: () => undefined }, { floodMessagesPerSecond: 1e9, floodBytesPerSecond: 1e12 });
  stream.connected();
  const ti = performance.now();
  for (const f of frames) stream.live(f);
  const secs = (performance.now() - ti) / 1000;
  console.log(`ingestion (decode + keys + index), one core: ${Math.round(blocks / secs).toLocaleString('en')} blocks/s (${frames.length} batches, ${blocks} blocks in ${secs.toFixed(2)} s)`);

  if (!values['no-tokenize']) {
    // Tokenization on its own: a simulated pod's /v1/chat/completions/render over loopback, as token-producer calls it.
    const sim = await startSimulator({ model: MODEL, host: '127.0.96.250', port: 0, ttftMs: 0, itlMs: 1 });
    const client = new RenderClient();
    const system = 'Answer briefly and cite your sources. '.repeat(Math.ceil((PROMPT_TOKENS * 4) / 38)).slice(0, PROMPT_TOKENS * 4);
    const tokSamples: number[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const t = performance.now();
        await client.tokenize(`http://${sim.host}:${sim.port}`, { kind: 'chat', model: MODEL, messages: [{ role: 'system', content: system + i }] }, { timeoutMs: 5000, useRender: true });
        tokSamples.push((performance.now() - t) * 1000);
      }
    } finally {
      await client.close();
      await sim.close();
    }
    console.log(`tokenization (sim render over loopback, uncached), ${PROMPT_TOKENS} tokens: ${pct(tokSamples.slice(30))}`);
  }
}

void main();
