/** Wires a simulator's KV events: the engine's step batcher feeding the ZMQ publisher, when `--kv-events-config` enables them. */
import type { KvEventFormat } from '../../kvevents/wire-format.js';
import type { KvStepListener } from '../engine.js';
import type { KvEventsConfig } from './kv-events-config.js';
import { publishesKvEvents, topicAdvice } from './kv-events-config.js';
import { KvStepBatcher } from './step-batcher.js';

/** A simulator's open KV-event publisher. */
export interface SimKvEvents {
  /** What the engine reports its KV cache's changes to. */
  readonly listener: KvStepListener;
  /** The PUB endpoint as bound (real port) or connected. */
  readonly endpoint: string;
  /** The replay ROUTER endpoint as bound; null without `replay_endpoint`. */
  readonly replayEndpoint: string | null;
  close(): Promise<void>;
}

export interface KvEventsSetup {
  readonly kvEventsConfig: KvEventsConfig | null;
  readonly kvEventsFormat: KvEventFormat;
  readonly host: string;
  readonly blockSize: number;
  readonly enablePrefixCaching: boolean;
}

/** Opens the publisher's sockets, or returns null when events are off (no config, disabled, or `publisher: "null"`). */
export async function startKvEvents(setup: KvEventsSetup): Promise<SimKvEvents | null> {
  const config = setup.kvEventsConfig;
  if (!publishesKvEvents(config)) return null;
  if (!setup.enablePrefixCaching) {
    // vLLM warns the same way: only blocks registered in the prefix cache are reported.
    console.warn('KV events are enabled but prefix caching is not; no BlockStored events will be sent. Drop --no-enable-prefix-caching.');
  }
  const advice = topicAdvice(config.topic);
  if (advice !== null) console.warn(advice);
  // ZeroMQ and msgpack are loaded only for a simulator that publishes: most never do.
  const { ZmqKvEventPublisher } = await import('./zmq-publisher.js');
  const publisher = await ZmqKvEventPublisher.start(config, { host: setup.host, format: setup.kvEventsFormat });
  return {
    listener: new KvStepBatcher(publisher, setup.blockSize, setup.kvEventsFormat),
    endpoint: publisher.endpoint,
    replayEndpoint: publisher.replayEndpoint,
    close: () => publisher.close(),
  };
}
