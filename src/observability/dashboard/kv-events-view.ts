/**
 * Each pod's KV-event stream as the dashboard shows it, for the pools whose scheduler uses precise prefix routing
 * (src/kvevents): whether the gateway scores the pod on its own events or on the approximate view, and why, the
 * last message's age, the faults counted (gaps, publisher restarts, replays) and the index entries it holds.
 */
import type { KvCacheView, PodFeed } from '../../kvevents/kv-cache-view.js';
import type { KvEventsHub } from '../../kvevents/kv-events-hub.js';
import type { UntrustedReason } from '../../kvevents/pod-stream-contract.js';
import type { PoolScheduler } from '../../epp/pool-schedulers.js';
import { isKvEventsPlugin } from '../../epp/plugin-runtime.js';

/** One pod's stream. */
export interface KvEventsEndpointView {
  /** `precise`: scored on the pod's own KV events; `approximate`: on the approximate prefix view until `untrusted` clears. */
  scoring: 'precise' | 'approximate';
  /** Why its events are not trusted now (connecting, disconnected, replaying, resyncing, flood, silent, recovering); null when they are. */
  untrusted: UntrustedReason | null;
  /** Whether a ZMQ socket of its own is open for it (false in central mode: the pod connects to the gateway). */
  subscribed: boolean;
  /** Messages received (live and replayed). */
  messages: number;
  /** Age of the last message (ms); null before the first. */
  lastMessageAgeMs: number | null;
  /** Blocks the index holds for the pod (any tier, speculative ones included). */
  indexEntries: number;
  /** Occurrences of each problem since its feed started (`infergate_kv_events_problems_total`): gap, sequence-reset, ... */
  problems: Record<string, number>;
  replays: { active: boolean; completed: number; failed: number };
}

/** A pool's precise prefix index. */
export interface KvEventsPoolView {
  /** Where events are decoded (`--kv-events-ingestion`). */
  ingestion: 'worker' | 'in-thread';
  /** Keys the index holds (all pods of the setting) and keeps at most. */
  indexKeys: number;
  indexCapacity: number;
}

/** The view the pool's scheduler reads KV events through; undefined when it uses none (or none is bound yet). */
export function poolKvView(hub: KvEventsHub | undefined, ps: PoolScheduler | undefined): KvCacheView | undefined {
  if (!hub || !ps) return undefined;
  for (const p of ps.scheduler.config.plugins.values()) {
    if (!isKvEventsPlugin(p)) continue;
    const v = hub.find(p.kvEventsSettings);
    if (v) return v;
  }
  return undefined;
}

export function kvEventsPoolView(v: KvCacheView): KvEventsPoolView {
  return { ingestion: v.ingestion, indexKeys: v.index.size, indexCapacity: v.index.capacity };
}

/** The pod at `address` as `v` sees it; undefined when `v` has no feed for it (not yet synced). */
export function kvEventsEndpointView(v: KvCacheView, address: string, now: number): KvEventsEndpointView | undefined {
  const f: PodFeed | undefined = v.feed(address);
  if (!f) return undefined;
  const why = v.untrusted().get(address) ?? null;
  const s = f.stream;
  return {
    scoring: why === null ? 'precise' : 'approximate',
    untrusted: why,
    subscribed: f.subscribed,
    messages: s.messages,
    lastMessageAgeMs: s.messages === 0 ? null : Math.max(0, now - s.lastMessageAt),
    indexEntries: v.index.heldBy(f.podId),
    problems: Object.fromEntries(f.problems),
    replays: { active: s.replays.active, completed: s.replays.completed, failed: s.replays.failed },
  };
}
