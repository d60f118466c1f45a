/**
 * Binds the plugins of the schedulers in force to the running gateway, after each configuration change: the
 * runtime to those that use it, and to each KV-event plugin its view, subscribed to every endpoint of every pool
 * that uses it (llm-d's `discoverPods`: the port from the config or the pod's annotation, plus the endpoint's
 * rank among the pool's targetPorts). Pods that left are unsubscribed and their entries dropped.
 */
import type { InferencePool } from '../api/inference-pool.js';
import type { FeedTarget, KvCacheView } from '../kvevents/kv-cache-view.js';
import { KvEventsHub, type KvEventsHubOptions } from '../kvevents/kv-events-hub.js';
import { KV_EVENTS_PORT_ANNOTATION, KV_EVENTS_REPLAY_PORT_ANNOTATION, type KvEventsSettings } from '../kvevents/kv-events-settings.js';
import type { Logger } from '../logger.js';
import type { Datastore } from './datastore/datastore.js';
import type { Endpoint } from './datastore/endpoint.js';
import { isKvEventsPlugin, isRuntimePlugin, type PluginRuntime } from './plugin-runtime.js';
import type { PoolSchedulers } from './pool-schedulers.js';
import { RenderClient } from './plugins/render-client.js';

export interface PluginHostOptions {
  log: Logger;
  headersFor?: (ep: Endpoint) => Readonly<Record<string, string>> | undefined;
  /** KV-event stream tuning (tests); production uses the defaults. */
  kvEvents?: Omit<KvEventsHubOptions, 'log'>;
}

export class PluginHost {
  readonly kvEvents: KvEventsHub;
  readonly runtime: PluginRuntime;
  readonly #log: Logger;
  readonly #badAnnotations = new Set<string>();

  constructor(options: PluginHostOptions) {
    this.#log = options.log;
    this.kvEvents = new KvEventsHub({ log: options.log, ...options.kvEvents });
    const headersFor = options.headersFor ?? (() => undefined);
    this.runtime = { log: options.log, render: new RenderClient(), headersFor };
  }

  /** After a change was put in force: bind every plugin in force, and sync the subscriptions to the pools. */
  reconcile(schedulers: PoolSchedulers, datastore: Datastore): void {
    const wanted = new Map<KvCacheView, Map<string, FeedTarget>>();
    for (const pool of datastore.pools()) {
      const ps = schedulers.forPool(pool.key);
      if (!ps) continue;
      for (const p of ps.scheduler.config.plugins.values()) {
        if (isRuntimePlugin(p)) p.bindRuntime(this.runtime);
        if (!isKvEventsPlugin(p)) continue;
        const view = this.kvEvents.view(p.kvEventsSettings);
        p.bindView(view);
        let pods = wanted.get(view);
        if (!pods) wanted.set(view, (pods = new Map()));
        for (const ep of pool.endpoints) pods.set(ep.address, this.#target(ep, pool.pool, view.settings));
      }
    }
    this.kvEvents.reconcile(wanted);
  }

  async close(): Promise<void> {
    await this.kvEvents.close();
    await this.runtime.render.close();
  }

  /** Where an endpoint's events come from: `tcp://ip:(socketPort or the pod's annotation) + rank`. */
  #target(ep: Endpoint, pool: InferencePool, s: KvEventsSettings): FeedTarget {
    // llm-d: one PUB socket per data-parallel rank, at the base port plus the endpoint's index in targetPorts.
    const rank = Math.max(0, pool.targetPorts.indexOf(ep.port));
    const port = this.#annotatedPort(ep, KV_EVENTS_PORT_ANNOTATION) ?? s.socketPort;
    const replay = this.#annotatedPort(ep, KV_EVENTS_REPLAY_PORT_ANNOTATION) ?? s.replaySocketPort;
    const host = ep.ip.includes(':') ? `[${ep.ip}]` : ep.ip;
    return {
      owner: ep,
      pod: ep.podKey,
      endpoint: s.discoverPods ? `tcp://${host}:${port + rank}` : '',
      ...(s.discoverPods && replay > 0 ? { replayEndpoint: `tcp://${host}:${replay + rank}` } : {}),
    };
  }

  #annotatedPort(ep: Endpoint, annotation: string): number | undefined {
    const v = ep.pod.meta.annotations[annotation];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
    const key = `${ep.podKey}/${annotation}`;
    if (!this.#badAnnotations.has(key)) {
      this.#badAnnotations.add(key);
      this.#log.warn(`pod ${ep.podKey}: annotation ${annotation}: ${JSON.stringify(v)} is not a port (1-65535); the EndpointPickerConfig's port is used`);
    }
    return undefined;
  }
}
