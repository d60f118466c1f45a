/** The precise pipeline: producer -> generic prefix-cache-scorer, the legacy all-in-one scorer, and llm-d's config shapes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Endpoint } from '../datastore/endpoint.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import { KvCacheView } from '../../kvevents/kv-cache-view.js';
import { defaultKvEventsSettings } from '../../kvevents/kv-events-settings.js';
import { ReplayLimiter } from '../../kvevents/zmq-subscription.js';
import { createLogger } from '../../logger.js';
import type { BlockStoredEvent } from '../../kvevents/wire-format.js';
import type { PodStream } from '../../kvevents/pod-stream.js';
import { PrecisePrefixCacheProducer } from './precise-prefix-cache-producer.js';
import { PrecisePrefixCacheScorer } from './precise-prefix-cache-scorer.js';
import { PrefixCacheScorer } from './prefix-cache-scorer.js';
import { registerBuiltins } from './register-builtins.js';
import { TOKENIZED_PROMPT_KEY, TokenizedPrompt } from './tokenized-prompt.js';

const [a, b, c] = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => endpoint(ip).metrics().build()) as [Endpoint, Endpoint, Endpoint];
const EPS = [a, b, c];
const TOKENS = Uint32Array.from({ length: 64 }, (_, i) => 1000 + i); // 4 blocks of 16

function setup(speculative = false) {
  let now = 1_000_000;
  const view = new KvCacheView(defaultKvEventsSettings(), { log: createLogger('silent'), limiter: new ReplayLimiter(), now: () => now });
  const producer = new PrecisePrefixCacheProducer('ppc', view.settings, { enabled: speculative, ttlMs: 2000 });
  producer.bindView(view);
  const scorer = new PrefixCacheScorer('prefix-cache-scorer', { prefixMatchInfoProducerName: 'ppc' }, { deferUpdates: false });
  /** `ep` reports storing the first `blocks` blocks of TOKENS. */
  const store = (ep: Endpoint, blocks: number): void => {
    const event: BlockStoredEvent = {
      type: 'BlockStored', blockHashes: Array.from({ length: blocks }, (_, i) => BigInt(i + 1) * 7919n), parentBlockHash: null,
      tokenIds: [...TOKENS.subarray(0, blocks * 16)], blockSize: 16, loraId: null, medium: 'GPU', loraName: null,
      extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null,
    };
    view.ingestor.apply(view.index.podId(ep.address), 'llama', { ts: 0, events: [event], dataParallelRank: null }, () => undefined);
  };
  /** One request through producer, scorer and the pick's hook; its scores. */
  const cycle = (pick?: Endpoint, tokens = TOKENS): number[] => {
    const ctx = context(request({ model: 'llama', prompt: 'x'.repeat(256) }));
    ctx.state.write(TOKENIZED_PROMPT_KEY, new TokenizedPrompt(tokens));
    producer.produce(ctx, EPS);
    const scores = Array.from(scorer.score(ctx, EPS));
    if (pick) scorer.preRequest(ctx, pick);
    return scores;
  };
  return { view, producer, scorer, store, cycle, advance: (ms: number) => (now += ms) };
}

describe('precise-prefix-cache-producer + prefix-cache-scorer', () => {
  test('scores the blocks each pod reports holding, as a share of the prompt', () => {
    const t = setup();
    t.store(b, 4);
    t.store(c, 2);
    assert.deepEqual(t.cycle(), [0, 1, 0.5]);
  });

  test('a pod whose stream is not trusted is scored by the approximate view instead', () => {
    const t = setup();
    t.store(b, 4);
    t.view.sync(new Map(EPS.map((e) => [e.address, { endpoint: '' }])));
    (t.view.feed(a.address)!.stream as PodStream).connected();
    (t.view.feed(c.address)!.stream as PodStream).connected();
    // b is still "connecting": its precise 4 of 4 is not used; the approximate view knows nothing yet.
    assert.deepEqual(t.cycle(c), [0, 0, 0]);
    // c was picked: the approximate view now believes c holds the prompt, but c is trusted: its precise view (0) wins.
    t.cycle(b);
    assert.deepEqual(t.cycle(), [0, 1, 0]);
  });

  test('without tokens (a slow tokenizer) every endpoint is scored by the approximate view', () => {
    const t = setup();
    t.store(b, 4);
    const ctx = context(request({ model: 'llama', prompt: 'x'.repeat(256) }));
    t.producer.produce(ctx, EPS);
    assert.deepEqual(Array.from(t.scorer.score(ctx, EPS)), [0, 0, 0]);
  });

  test('traced, the scorer says which scores came from the approximate view: untrusted pods by address, all without tokens', () => {
    const t = setup();
    t.store(b, 4);
    const traced = (tokens?: Uint32Array) => {
      const ctx = context(request({ model: 'llama', prompt: 'x'.repeat(256) }));
      if (tokens) ctx.state.write(TOKENIZED_PROMPT_KEY, new TokenizedPrompt(tokens));
      t.producer.produce(ctx, EPS);
      t.scorer.score(ctx, EPS);
      return t.scorer.scoreNotes(ctx, EPS);
    };
    // No feeds at all (a view nobody subscribed): every pod is trusted, the scores are the producer's.
    assert.equal(traced(TOKENS), undefined);
    t.view.sync(new Map(EPS.map((e) => [e.address, { endpoint: '' }])));
    (t.view.feed(a.address)!.stream as PodStream).connected();
    (t.view.feed(c.address)!.stream as PodStream).connected();
    assert.deepEqual(traced(TOKENS), { endpoints: { [b.address]: 'approximate view: its KV events are not trusted now (connecting)' } });
    assert.match(traced()?.basis ?? '', /^approximate view: ppc has no match info for this request/);
    // A scorer naming no producer is approximate by type: nothing to say.
    const ctx = context(request({ model: 'llama', prompt: 'x'.repeat(256) }));
    assert.equal(new PrefixCacheScorer('approx').scoreNotes(ctx, EPS), undefined);
  });

  test('speculativeIndexing holds the pick for the TTL, until the pod\'s own events confirm it', () => {
    const t = setup(true);
    assert.deepEqual(t.cycle(a), [0, 0, 0]);
    assert.deepEqual(t.cycle(), [1, 0, 0]);
    t.advance(2001);
    assert.deepEqual(t.cycle(), [0, 0, 0]);
  });

  test('a prompt of another model or adapter matches nothing', () => {
    const t = setup();
    t.store(b, 4);
    const ctx = context(request({ model: 'other', prompt: 'x' }));
    ctx.state.write(TOKENIZED_PROMPT_KEY, new TokenizedPrompt(TOKENS));
    t.producer.produce(ctx, EPS);
    assert.deepEqual(Array.from(t.scorer.score(ctx, EPS)), [0, 0, 0]);
  });

  test('the legacy precise-prefix-cache-scorer is the same pipeline in one plugin', () => {
    const t = setup();
    t.store(a, 3);
    const legacy = new PrecisePrefixCacheScorer('precise-prefix-cache-scorer', t.view.settings, { enabled: false, ttlMs: 2000 });
    legacy.bindView(t.view);
    const ctx = context(request({ model: 'llama', prompt: 'x' }));
    ctx.state.write(TOKENIZED_PROMPT_KEY, new TokenizedPrompt(TOKENS));
    legacy.produce(ctx, EPS);
    assert.deepEqual(Array.from(legacy.score(ctx, EPS)), [0.75, 0, 0]);
  });
});

describe('llm-d config shapes', () => {
  const registry = registerBuiltins();
  const load = (yaml: string) => loadEndpointPickerConfig(yaml, { file: 'epp.yaml', registry, implicitServedModelFilter: false });

  test("llm-d's split precise pipeline loads unchanged (deploy/config/epp-precise-prefix-cache-config.yaml)", () => {
    const loaded = load(`apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: token-producer
    parameters:
      modelName: hf-repo/model-name
      vllm:
        url: http://localhost:8000
  - type: endpoint-notification-source
  - type: metrics-data-source
  - type: core-metrics-extractor
  - type: single-profile-handler
  - type: precise-prefix-cache-producer
    parameters:
      tokenProcessorConfig:
        blockSize: 64
      indexerConfig:
        kvBlockIndexConfig:
          enableMetrics: true
      kvEventsConfig:
        topicFilter: "kv@"
        concurrency: 4
        discoverPods: true
        podDiscoveryConfig:
          socketPort: 5556
      speculativeIndexing: true
      speculativeTTL: "500ms"
  - type: prefix-cache-scorer
    parameters:
      prefixMatchInfoProducerName: precise-prefix-cache-producer
  - type: kv-cache-utilization-scorer
  - type: queue-scorer
  - type: max-score-picker
dataLayer:
  sources:
    - pluginRef: endpoint-notification-source
      extractors:
        - pluginRef: precise-prefix-cache-producer
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: prefix-cache-scorer
        weight: 2.0
      - pluginRef: kv-cache-utilization-scorer
        weight: 1.0
      - pluginRef: queue-scorer
        weight: 1.0
      - pluginRef: max-score-picker
`);
    const producer = loaded.schedulerConfig.plugins.get('precise-prefix-cache-producer') as PrecisePrefixCacheProducer;
    assert.equal(producer.kvEventsSettings.blockSize, 64);
    assert.equal(producer.kvEventsSettings.socketPort, 5556);
    assert.deepEqual(producer.speculative, { enabled: true, ttlMs: 500 });
    assert.equal((loaded.schedulerConfig.plugins.get('prefix-cache-scorer') as PrefixCacheScorer).params.prefixMatchInfoProducerName, 'precise-prefix-cache-producer');
  });

  test("llm-d's legacy all-in-one scorer loads with its nested parameters", () => {
    const loaded = load(`apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: token-producer
  - type: precise-prefix-cache-scorer
    parameters:
      tokenProcessorConfig:
        blockSize: 16
        hashSeed: "12345"
      kvEventsConfig:
        discoverPods: true
        podDiscoveryConfig:
          socketPort: 5556
          replaySocketPort: 5559
      indexerConfig:
        kvBlockIndexConfig:
          inMemoryConfig:
            size: 100000
            podCacheSize: 4
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: precise-prefix-cache-scorer
        weight: 2
`);
    const s = (loaded.schedulerConfig.plugins.get('precise-prefix-cache-scorer') as PrecisePrefixCacheScorer).kvEventsSettings;
    assert.deepEqual([s.hashSeed, s.replaySocketPort, s.capacity, s.podsPerKey], ['12345', 5559, 100_000, 4]);
  });

  test("the legacy scorer's in-process tokenizer pool (llm-d still reads it there) loads with a warning; a token-producer is added", () => {
    const loaded = load(`apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: single-profile-handler
  - type: precise-prefix-cache-scorer
    parameters:
      tokenProcessorConfig: {blockSize: 64}
      indexerConfig:
        tokenizersPoolConfig:
          modelName: Qwen/Qwen3-32B
          uds: {socketFile: /tmp/tokenizer/tokenizer-uds.socket}
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: precise-prefix-cache-scorer
`);
    assert.ok(loaded.warnings.some((w) => /parameters\.indexerConfig\.tokenizersPoolConfig is ignored: tokens come from a token-producer/.test(w)), loaded.warnings.join('\n'));
    assert.equal(loaded.schedulerConfig.plugins.get('token-producer')?.type, 'token-producer');
    // The producer itself refuses it, as llm-d's does.
    assert.throws(() => load(`apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: precise-prefix-cache-producer
    parameters:
      indexerConfig: {tokenizersPoolConfig: {modelName: m}}
`), /tokenizersPoolConfig: is not supported \(as in llm-d\)/);
  });

  test("llm-d-inference-scheduler v0.4's sample (deploy/config/epp-precise-prefix-cache-config.yaml, indexerConfig.tokenProcessorConfig) loads with its block size", () => {
    const loaded = load(`apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: single-profile-handler
  - type: precise-prefix-cache-scorer
    parameters:
      indexerConfig:
        tokenProcessorConfig:
          blockSize: 64                 # must match vLLM block size
          hashSeed: "42"                # must match vLLM PYTHONHASHSEED env var
        kvBlockIndexConfig:
          enableMetrics: true           # enable kv-block index metrics (prometheus)
  - type: kv-cache-utilization-scorer
  - type: queue-scorer
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: precise-prefix-cache-scorer
        weight: 2.0
      - pluginRef: kv-cache-utilization-scorer
        weight: 1.0
      - pluginRef: queue-scorer
        weight: 1.0
      - pluginRef: max-score-picker
`);
    const s = (loaded.schedulerConfig.plugins.get('precise-prefix-cache-scorer') as PrecisePrefixCacheScorer).kvEventsSettings;
    assert.deepEqual([s.blockSize, s.hashSeed], [64, '42']);
    assert.ok(loaded.warnings.some((w) => /indexerConfig\.tokenProcessorConfig is read as parameters\.tokenProcessorConfig/.test(w)), loaded.warnings.join('\n'));
  });

  test('a config without a token-producer gets one, as llm-d adds one, with a warning', () => {
    const loaded = load(`apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: precise-prefix-cache-producer
  - type: prefix-cache-scorer
    parameters: {prefixMatchInfoProducerName: precise-prefix-cache-producer}
`);
    assert.equal(loaded.schedulerConfig.plugins.get('token-producer')?.type, 'token-producer');
    assert.ok(loaded.warnings.some((w) => /no token-producer is declared/.test(w)));
  });

  test('central mode (zmqEndpoint) with discoverPods at its default warns that every pod is connected to as well', () => {
    const config = (ev: string): string => `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: token-producer
  - type: precise-prefix-cache-producer
    parameters:
      kvEventsConfig: {${ev}}
  - type: prefix-cache-scorer
    parameters: {prefixMatchInfoProducerName: precise-prefix-cache-producer}
`;
    const warned = (ev: string): boolean => load(config(ev)).warnings.some((w) => /zmqEndpoint is set and discoverPods is left at its default/.test(w));
    assert.equal(warned('zmqEndpoint: "tcp://0.0.0.0:5557"'), true);
    assert.equal(warned('zmqEndpoint: "tcp://0.0.0.0:5557", discoverPods: false'), false);
    assert.equal(warned('zmqEndpoint: "tcp://0.0.0.0:5557", discoverPods: true'), false, 'both, as asked');
    assert.equal(warned('discoverPods: true'), false);
  });

  test('a producer that fails to load is reported once: the scorer naming it adds no "names no producer" error', () => {
    assert.throws(
      () => load(`apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: precise-prefix-cache-producer
    parameters:
      kvEventsConfig: {podDiscoveryConfig: {socketPortt: 5556}}
  - type: prefix-cache-scorer
    parameters: {prefixMatchInfoProducerName: precise-prefix-cache-producer}
`),
      (e: Error) => {
        assert.match(e.message, /socketPortt: unknown parameter \(did you mean socketPort\?\)/);
        assert.doesNotMatch(e.message, /names no producer/);
        return true;
      },
    );
  });

  const bad: { name: string; plugins: string; error: RegExp }[] = [
    { name: 'a scorer naming a producer that is not declared', plugins: '  - type: prefix-cache-scorer\n    parameters:\n      prefixMatchInfoProducerName: nope\n', error: /prefixMatchInfoProducerName: names no producer of this config/ },
    { name: 'a misspelt nested parameter', plugins: '  - type: precise-prefix-cache-producer\n    parameters:\n      tokenProcessorConfig:\n        blockSizeToken: 16\n', error: /parameters\.tokenProcessorConfig\.blockSizeToken: unknown parameter \(did you mean blockSizeTokens\?\)/ },
    { name: 'a Redis index', plugins: '  - type: precise-prefix-cache-producer\n    parameters:\n      indexerConfig:\n        kvBlockIndexConfig:\n          redisConfig:\n            address: redis:6379\n', error: /redisConfig: is not supported/ },
    { name: 'the xxh64 hash', plugins: '  - type: precise-prefix-cache-producer\n    parameters:\n      tokenProcessorConfig:\n        hashAlgorithm: xxh64\n', error: /hashAlgorithm: only "cbor-fnv"/ },
    { name: 'the estimate tokenizer', plugins: '  - type: token-producer\n    parameters:\n      estimate: {}\n', error: /estimate: is not supported/ },
  ];
  for (const c of bad) {
    test(`refuses ${c.name}`, () => {
      assert.throws(() => load(`apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\nplugins:\n${c.plugins}`), c.error);
    });
  }
});
