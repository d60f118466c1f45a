/** vLLM's `--kv-events-config` (`KVEventsConfig`, vllm/config/kv_events.py): its fields, defaults and checks. */

/** The parsed config, field names in camelCase; the JSON uses vLLM's snake_case names. */
export interface KvEventsConfig {
  /** `enable_kv_cache_events` (default false): record BlockStored/BlockRemoved/AllBlocksCleared. */
  readonly enableKvCacheEvents: boolean;
  /** `publisher`: `"zmq"` when events are enabled, else `"null"` (record nothing, publish nothing). */
  readonly publisher: 'zmq' | 'null';
  /** `endpoint` (default `tcp://*:5557`): the PUB socket; bound when it has `*` or `::` or is ipc/inproc, else connected. */
  readonly endpoint: string;
  /** `replay_endpoint` (default none): a ROUTER socket, always bound, answering replay requests. */
  readonly replayEndpoint: string | null;
  /** `buffer_steps` (default 10000): how many recent batches the replay socket can answer from; 0 keeps none. */
  readonly bufferSteps: number;
  /** `hwm` (default 100000): the PUB socket's send high-water mark, in messages; past it ZMQ drops. 0 = no limit, as ZMQ's. */
  readonly hwm: number;
  /**
   * `max_queue_size` (default 100000): batches waiting to be sent; past it the oldest unsent are dropped (replay
   * still has them). 0 = no limit, as vLLM's `queue.Queue(maxsize=0)`.
   */
  readonly maxQueueSize: number;
  /** `topic` (default ""): the first frame of every message; llm-d expects `kv@<podIP:port>@<model>`. */
  readonly topic: string;
}

export const DEFAULT_KV_EVENTS_CONFIG: KvEventsConfig = {
  enableKvCacheEvents: false,
  publisher: 'null',
  endpoint: 'tcp://*:5557',
  replayEndpoint: null,
  bufferSteps: 10_000,
  hwm: 100_000,
  maxQueueSize: 100_000,
  topic: '',
};

const FIELDS = ['enable_kv_cache_events', 'publisher', 'endpoint', 'replay_endpoint', 'buffer_steps', 'hwm', 'max_queue_size', 'topic'] as const;
/** ZMQ transports the publisher can use; vLLM's offset_endpoint_port accepts tcp and inproc, pyzmq also ipc. */
const ENDPOINT = /^(tcp:\/\/.+:(\d+|\*)|ipc:\/\/.+|inproc:\/\/.+)$/;

function fail(message: string): never {
  throw new Error(`--kv-events-config: ${message}`);
}

/** A count where 0 means what it means to vLLM (`meaning0`): no limit, or nothing kept. */
function count(json: Record<string, unknown>, field: string, fallback: number, meaning0: string): number {
  const v = json[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`\`${field}\` must be an integer of at least 0 (${meaning0}), got ${JSON.stringify(v)}`);
  return v;
}

function endpointOf(json: Record<string, unknown>, field: string, fallback: string | null): string | null {
  const v = json[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !ENDPOINT.test(v)) {
    fail(`\`${field}\` must be a ZMQ endpoint such as tcp://*:5557 (bind), tcp://10.0.0.5:5557 (connect) or ipc:///tmp/kv, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Parses the flag's JSON (or an already parsed object). Unknown fields are rejected, as vLLM's config class
 * does, so a misspelt field does not silently leave events off.
 */
export function parseKvEventsConfig(input: string | Record<string, unknown>): KvEventsConfig {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      fail(`not valid JSON (${(err as Error).message}); pass an object such as '{"enable_kv_cache_events":true,"publisher":"zmq","topic":"kv@127.0.0.1:8000@my-model"}'`);
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('must be a JSON object');
  const obj = json as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) fail(`unknown field ${unknown.map((k) => `\`${k}\``).join(', ')}; the fields are ${FIELDS.join(', ')}`);
  const enabled = obj.enable_kv_cache_events ?? false;
  if (typeof enabled !== 'boolean') fail('`enable_kv_cache_events` must be true or false');
  const publisher = obj.publisher ?? (enabled ? 'zmq' : 'null');
  if (publisher !== 'zmq' && publisher !== 'null') fail(`\`publisher\` must be "zmq" or "null", got ${JSON.stringify(publisher)}`);
  const topic = obj.topic ?? '';
  if (typeof topic !== 'string') fail('`topic` must be a string such as "kv@10.0.0.5:8000@my-model"');
  const d = DEFAULT_KV_EVENTS_CONFIG;
  return {
    enableKvCacheEvents: enabled,
    publisher,
    endpoint: endpointOf(obj, 'endpoint', d.endpoint)!,
    replayEndpoint: endpointOf(obj, 'replay_endpoint', null),
    bufferSteps: count(obj, 'buffer_steps', d.bufferSteps, '0 keeps nothing to replay'),
    hwm: count(obj, 'hwm', d.hwm, '0 = no limit'),
    maxQueueSize: count(obj, 'max_queue_size', d.maxQueueSize, '0 = no limit'),
    topic,
  };
}

/** Whether the simulator should record and send events: enabled, with the zmq publisher. */
export function publishesKvEvents(config: KvEventsConfig | null): config is KvEventsConfig {
  return config !== null && config.enableKvCacheEvents && config.publisher === 'zmq';
}

/**
 * What to tell the user about a topic subscribers will not find useful, or null: llm-d's (and infergate's)
 * subscribers filter on `kv@` and read the model after the second `@` (ANCHORS §3b). vLLM's default topic is "",
 * whose events reach no such subscriber; the silence would only show on the gateway's side.
 */
export function topicAdvice(topic: string): string | null {
  // wire-format's KV_TOPIC_PREFIX, not imported: that module loads msgpack, which a simulator without events skips.
  const KV_TOPIC_PREFIX = 'kv@';
  const example = 'kv@<pod ip:port>@<model>';
  if (!topic.startsWith(KV_TOPIC_PREFIX)) {
    return `KV events: the topic ${JSON.stringify(topic)} does not start with ${KV_TOPIC_PREFIX}; llm-d's and infergate's subscribers (topicFilter ${KV_TOPIC_PREFIX}) will receive none of these events. Set "topic":"${example}"`;
  }
  const rest = topic.slice(KV_TOPIC_PREFIX.length);
  const at = rest.indexOf('@');
  if (at <= 0 || at === rest.length - 1) {
    return `KV events: the topic ${JSON.stringify(topic)} names no model after the pod; subscribers key the blocks by it (the base model the pod lists is used meanwhile). Set "topic":"${example}"`;
  }
  return null;
}
