/**
 * Reads llm-d's precise prefix plugins' shared parameters (`tokenProcessorConfig`, `indexerConfig`, `kvEventsConfig`,
 * `speculativeIndexing`, `speculativeTTL`) into the settings src/kvevents runs on.
 */
import type { ParamReader } from '../framework/param-reader.js';
import { DEFAULT_TIER_WEIGHTS } from '../../kvevents/device-tiers.js';
import { DEFAULT_INDEX_CAPACITY, DEFAULT_PODS_PER_KEY, DEFAULT_SILENCE_TIMEOUT_MS, DEFAULT_SOCKET_PORT, DEFAULT_SPECULATIVE_TTL_MS, type KvEventsSettings, type SpeculativeSettings } from '../../kvevents/kv-events-settings.js';
import { KV_TOPIC_PREFIX } from '../../kvevents/wire-format.js';

/**
 * Reads the shared parameters; throws PluginConfigError naming the nested field. `legacyTokenizerPool`: llm-d's
 * older all-in-one scorer still takes `indexerConfig.tokenizersPoolConfig` (it tokenizes in process), where the
 * producer refuses it.
 */
export function readKvEventsSettings(r: ParamReader, options: { legacyTokenizerPool?: boolean } = {}): KvEventsSettings {
  const ix: ParamReader = r.child('indexerConfig');
  const tp = tokenProcessorReader(r, ix);
  const hasTokens = tp.has('blockSizeTokens');
  const tokens = tp.positiveInt('blockSizeTokens', 16);
  const legacy = tp.positiveInt('blockSize', 16);
  if (tp.has('blockSize') && hasTokens && legacy !== tokens) tp.warn(`parameters.tokenProcessorConfig.blockSize is ignored: blockSizeTokens is set`);
  const blockSize = hasTokens ? tokens : legacy;
  const hashSeed = tp.string('hashSeed', '');
  const algo = tp.string('hashAlgorithm', 'cbor-fnv');
  if (algo !== 'cbor-fnv' && algo !== '') tp.fail('hashAlgorithm', `only "cbor-fnv" (llm-d's default) is supported, got ${JSON.stringify(algo)}`);

  ix.ignored('prefixStoreConfig', 'it cached llm-d\'s in-process tokenizations; tokens come from a token-producer (llm-d\'s kv-cache dropped it too)');
  if (options.legacyTokenizerPool === true) {
    ix.ignored('tokenizersPoolConfig', 'tokens come from a token-producer (one with default parameters is added when none is declared), which asks a pod of the pool to render the request as the engine will');
  } else if (ix.has('tokenizersPoolConfig')) ix.fail('tokenizersPoolConfig', 'is not supported (as in llm-d): declare a token-producer plugin, which tokenizes on a pool pod');
  const kb = ix.child('kvBlockIndexConfig');
  if (kb.has('redisConfig')) kb.fail('redisConfig', 'is not supported: the index is in memory, and every gateway replica builds the same one from the pods\' events');
  if (kb.has('costAwareMemoryConfig')) kb.fail('costAwareMemoryConfig', 'is not supported: use inMemoryConfig.size to bound the index');
  kb.ignored('enableMetrics', 'the index\'s metrics are always on (llm_d_epp_kv_cache_index_*)');
  kb.ignored('metricsLoggingInterval', 'read the metrics on the admin port instead');
  const mem = kb.child('inMemoryConfig');
  const capacity = mem.positiveInt('size', DEFAULT_INDEX_CAPACITY);
  const podsPerKey = mem.positiveInt('podCacheSize', DEFAULT_PODS_PER_KEY);
  // A list replaces llm-d's default one (Go's JSON decoding replaces a slice), and a tier it does not name weighs
  // 1.0 there (LongestPrefixScorer's fillMaxWeights): [{name: gpu, weight: 1}] leaves CPU blocks at 1.0, not 0.8.
  const tierWeights = ix.has('kvCacheBackendConfigs') ? { gpu: 1, cpu: 1, other: 1 } : { ...DEFAULT_TIER_WEIGHTS };
  ix.list('kvCacheBackendConfigs', (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) ix.fail(path, 'must be a mapping {name, weight}');
    const { name, weight } = v as { name?: unknown; weight?: unknown };
    if (typeof name !== 'string' || typeof weight !== 'number' || !(weight >= 0)) ix.fail(path, 'needs a string `name` (gpu, cpu, ...) and a non-negative `weight`');
    const tier = name.toLowerCase();
    if (tier === 'gpu' || tier === 'cpu') tierWeights[tier] = weight;
    else tierWeights.other = weight;
  });

  const ev = r.child('kvEventsConfig');
  const zmqEndpoint = ev.string('zmqEndpoint', '');
  if (zmqEndpoint !== '' && !/^tcp:\/\/.+:\d+$/.test(zmqEndpoint)) ev.fail('zmqEndpoint', `must be a TCP endpoint such as tcp://0.0.0.0:5557, got ${JSON.stringify(zmqEndpoint)}`);
  const topicFilter = ev.string('topicFilter', KV_TOPIC_PREFIX);
  ev.ignored('concurrency', 'events are applied in order on one thread; a pod\'s order is kept by design');
  const engine = ev.string('engineType', 'vllm');
  if (engine !== 'vllm') ev.fail('engineType', `only "vllm" is supported, got ${JSON.stringify(engine)}`);
  const discoverPods = ev.boolean('discoverPods', true);
  if (zmqEndpoint !== '' && !ev.has('discoverPods')) {
    // As in llm-d, both run then; a fleet set up for the central socket only would show every pod reconnecting.
    ev.warn(`parameters.kvEventsConfig.zmqEndpoint is set and discoverPods is left at its default (true): the gateway also connects to every pod's socketPort, as llm-d does; set discoverPods: false if the pods only connect to ${zmqEndpoint}`);
  }
  if (!discoverPods && zmqEndpoint === '') {
    // Nothing to subscribe to and nothing bound: the precise view stays empty, which only a gauge would show.
    ev.warn('parameters.kvEventsConfig.discoverPods is false and no zmqEndpoint is set: no KV events are received, so every endpoint is scored on the approximate view; set zmqEndpoint (each vLLM\'s --kv-events-config endpoint then connects to it) or leave discoverPods at true');
  }
  const pd = ev.child('podDiscoveryConfig');
  const socketPort = pd.int('socketPort', DEFAULT_SOCKET_PORT, { min: 1, max: 65535 });
  const replaySocketPort = pd.int('replaySocketPort', 0, { min: 0, max: 65535 });
  pd.ignored('podLabelSelector', 'the pools\' own endpoints are subscribed to (their selectors already chose the pods)');
  pd.ignored('podNamespace', 'the pools\' own endpoints are subscribed to');
  const silence = ev.durationMs('silenceTimeout', DEFAULT_SILENCE_TIMEOUT_MS);
  if (silence < 0) ev.fail('silenceTimeout', 'must not be negative (0 turns silence detection off)');
  const silenceTimeoutMs = silence === 0 ? Number.POSITIVE_INFINITY : silence;
  return { blockSize, hashSeed, capacity, podsPerKey, tierWeights, topicFilter, discoverPods, socketPort, replaySocketPort, zmqEndpoint, silenceTimeoutMs };
}

/**
 * `tokenProcessorConfig`, or where llm-d's kv-cache library had it until v0.5 (llm-d-kv-cache PR #236, January 2026):
 * `indexerConfig.tokenProcessorConfig`, as the precise-prefix-cache-scorer samples of llm-d v0.3 and v0.4 set it
 * (`blockSize: 64`). Current llm-d ignores it there without a word and keys blocks by 16 tokens, so every lookup of a
 * 64-token vLLM misses; here it is read, with a warning to move it.
 */
function tokenProcessorReader(r: ParamReader, ix: ParamReader): ParamReader {
  if (!ix.has('tokenProcessorConfig')) return r.child('tokenProcessorConfig');
  if (r.has('tokenProcessorConfig')) ix.fail('tokenProcessorConfig', 'is set twice: keep parameters.tokenProcessorConfig (where llm-d reads it now) and remove this one');
  ix.warn('parameters.indexerConfig.tokenProcessorConfig is read as parameters.tokenProcessorConfig, where llm-d has read it since its kv-cache v0.5 (llm-d ignores it here): move it there');
  return ix.child('tokenProcessorConfig');
}

export function readSpeculativeSettings(r: ParamReader): SpeculativeSettings {
  const enabled = r.boolean('speculativeIndexing', false);
  const ttl = r.durationMs('speculativeTTL', DEFAULT_SPECULATIVE_TTL_MS);
  return { enabled, ttlMs: ttl > 0 ? ttl : DEFAULT_SPECULATIVE_TTL_MS };
}
