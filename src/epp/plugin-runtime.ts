/**
 * What a running gateway gives the plugins of the schedulers in force (llm-d's plugin Handle): the KV-event
 * subscriptions, an HTTP client for the pods' tokenizers and the pods' credentials. `explain` and `validate` build
 * plugins without one, so those open no socket and call no pod; such plugins fall back to what needs no runtime.
 */
import type { KvCacheView } from '../kvevents/kv-cache-view.js';
import type { KvEventsSettings } from '../kvevents/kv-events-settings.js';
import type { Logger } from '../logger.js';
import type { Endpoint } from './datastore/endpoint.js';
import type { Plugin } from './framework/plugin.js';
import type { RenderClient } from './plugins/render-client.js';

export interface PluginRuntime {
  readonly log: Logger;
  /** Asks pods for token ids (render, tokenize). */
  readonly render: RenderClient;
  /** The headers a request to `ep` needs (its pool's upstream API key), if any. */
  headersFor(ep: Endpoint): Readonly<Record<string, string>> | undefined;
}

/** A plugin that uses the runtime; bound (again) each time its scheduler is put in force. */
export interface RuntimePlugin extends Plugin {
  bindRuntime(runtime: PluginRuntime): void;
}

/** A plugin that reads the pods' KV events: subscribed to the endpoints of every pool whose scheduler has it. */
export interface KvEventsPlugin extends Plugin {
  readonly kvEventsSettings: KvEventsSettings;
  /** The view (index and feeds) of its settings, shared with every other plugin of the same settings. */
  bindView(view: KvCacheView): void;
}

export function isRuntimePlugin(p: Plugin): p is RuntimePlugin {
  return typeof (p as Partial<RuntimePlugin>).bindRuntime === 'function';
}

export function isKvEventsPlugin(p: Plugin): p is KvEventsPlugin {
  return typeof (p as Partial<KvEventsPlugin>).bindView === 'function' && (p as Partial<KvEventsPlugin>).kvEventsSettings !== undefined;
}
