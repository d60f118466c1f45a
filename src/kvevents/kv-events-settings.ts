/**
 * The parameters llm-d's precise prefix plugins share, read from their YAML under llm-d's names (llm-d-kv-cache
 * docs/configuration.md): `tokenProcessorConfig`, `indexerConfig`, `kvEventsConfig`, `speculativeIndexing`,
 * `speculativeTTL`. Plugins with equal settings share one index and one set of subscriptions. Read from a plugin's
 * parameters by src/epp/plugins/kv-events-params.ts.
 */
import { DEFAULT_TIER_WEIGHTS, type TierWeights } from './device-tiers.js';
import { KV_TOPIC_PREFIX } from './wire-format.js';

export interface KvEventsSettings {
  /** `tokenProcessorConfig.blockSizeTokens` (or the deprecated `blockSize`): tokens per block, default 16. */
  readonly blockSize: number;
  /** `tokenProcessorConfig.hashSeed`, default "". */
  readonly hashSeed: string;
  /** `indexerConfig.kvBlockIndexConfig.inMemoryConfig.size`: keys kept at most. */
  readonly capacity: number;
  /** `indexerConfig.kvBlockIndexConfig.inMemoryConfig.podCacheSize`: pods per key, default 10. */
  readonly podsPerKey: number;
  /** `indexerConfig.kvCacheBackendConfigs`: weight of a block per device tier (gpu 1.0, cpu 0.8). */
  readonly tierWeights: TierWeights;
  /** `kvEventsConfig.topicFilter`, default `kv@`. */
  readonly topicFilter: string;
  /** `kvEventsConfig.discoverPods` (default true): subscribe to every endpoint of the pools that use the plugin. */
  readonly discoverPods: boolean;
  /** `kvEventsConfig.podDiscoveryConfig.socketPort` (default 5557; llm-d's guide uses 5556), plus each endpoint's rank. */
  readonly socketPort: number;
  /** `kvEventsConfig.podDiscoveryConfig.replaySocketPort`: the pods' ROUTER replay socket; 0 = none. */
  readonly replaySocketPort: number;
  /** `kvEventsConfig.zmqEndpoint`: a socket this gateway binds that pods connect to (the older central mode). */
  readonly zmqEndpoint: string;
  /**
   * `kvEventsConfig.silenceTimeout` (infergate's own; default 5s; 0 = never): a pod sent several requests that
   * needed new blocks and no event for this long is judged silent and scored on the approximate view until an
   * event comes. It must outlast the longest a busy pod goes without storing a block (queue waits, long prefills).
   */
  readonly silenceTimeoutMs: number;
}

export interface SpeculativeSettings {
  /** `speculativeIndexing` (default false): the pick is added to the index before its events arrive. */
  readonly enabled: boolean;
  /** `speculativeTTL` (default 2s): how long such an entry lives. */
  readonly ttlMs: number;
}

/**
 * llm-d's default `inMemoryConfig.size` is 1e8 keys; here a key costs about 220 bytes with its engine-hash mapping
 * (measured at 1M keys), so the default bounds the index near 110 MB: ten pods of 50,000 cached blocks each.
 */
export const DEFAULT_INDEX_CAPACITY = 500_000;
export const DEFAULT_PODS_PER_KEY = 10;
export const DEFAULT_SOCKET_PORT = 5557;
export const DEFAULT_SPECULATIVE_TTL_MS = 2000;
export const DEFAULT_SILENCE_TIMEOUT_MS = 5000;

/** The pod annotation that overrides `socketPort` for one pod (its endpoints still add their rank). */
export const KV_EVENTS_PORT_ANNOTATION = 'infergate.io/kv-events-port';
/** The pod annotation that overrides `replaySocketPort` for one pod. */
export const KV_EVENTS_REPLAY_PORT_ANNOTATION = 'infergate.io/kv-events-replay-port';

/** Equal settings share an index: this string is equal exactly when they are. */
export function settingsKey(s: KvEventsSettings): string {
  return JSON.stringify([s.blockSize, s.hashSeed, s.capacity, s.podsPerKey, s.tierWeights.gpu, s.tierWeights.cpu, s.tierWeights.other, s.topicFilter, s.discoverPods, s.socketPort, s.replaySocketPort, s.zmqEndpoint, String(s.silenceTimeoutMs)]);
}

/** Settings with every default, for tests and benchmarks. */
export function defaultKvEventsSettings(over: Partial<KvEventsSettings> = {}): KvEventsSettings {
  return {
    blockSize: 16,
    hashSeed: '',
    capacity: DEFAULT_INDEX_CAPACITY,
    podsPerKey: DEFAULT_PODS_PER_KEY,
    tierWeights: { ...DEFAULT_TIER_WEIGHTS },
    topicFilter: KV_TOPIC_PREFIX,
    discoverPods: true,
    socketPort: DEFAULT_SOCKET_PORT,
    replaySocketPort: 0,
    zmqEndpoint: '',
    silenceTimeoutMs: DEFAULT_SILENCE_TIMEOUT_MS,
    ...over,
  };
}
