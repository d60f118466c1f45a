/**
 * The precise prefix index and its KV-event feeds, read at scrape time from the state they keep anyway: llm-d's
 * `llm_d_epp_kv_cache_index_*` and `llm_d_epp_kv_cache_events_*` names (router `pkg/kvcache/metrics`), and
 * infergate's own for bad input and for pods scored on the approximate view meanwhile. Nothing on the request path.
 */
import type { KvEventsHub } from '../../kvevents/kv-events-hub.js';
import type { PodFeed } from '../../kvevents/kv-cache-view.js';
import { DEDUP_KEYS } from '../../kvevents/event-ingestor.js';
import { PROMETHEUS_DEFAULT } from './buckets.js';
import { CollectedFamily, type Emit } from './collected-family.js';
import { alpha, type Collectable, type MetricType, type Sample } from './family.js';
import { histogramSamples } from './histogram-family.js';
import { LLMD } from './request-families.js';

const POD = ['pod_identifier'];

export function kvEventsFamilies(hub: () => KvEventsHub | undefined): Collectable[] {
  const feeds = function* (): Generator<PodFeed> {
    for (const v of hub()?.views() ?? []) yield* v.feeds();
  };
  const viewSum = (stat: 'admissions' | 'evictions' | 'lookups' | 'lookupHits') => (emit: Emit): void => {
    let n = 0;
    for (const v of hub()?.views() ?? []) n += v.index.stats[stat];
    emit(n);
  };
  const perPod = (value: (f: PodFeed) => number) => (emit: Emit): void => {
    for (const f of feeds()) emit(value(f), f.address);
  };
  return [
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_index_admissions_total`, help: alpha('Total number of KV-block admissions'), collect: viewSum('admissions') }),
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_index_evictions_total`, help: alpha('Total number of KV-block evictions'), collect: viewSum('evictions') }),
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_index_lookup_requests_total`, help: alpha('Total number of lookup calls'), collect: viewSum('lookups') }),
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_index_lookup_hits_total`, help: alpha('Contiguous prefix blocks matched by the best pod per lookup'), collect: viewSum('lookupHits') }),
    // llm-d counts the same per-lookup chain under both names; dashboards built on either keep working.
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_index_max_pod_hit_count_total`, help: alpha('Longest contiguous per-pod prefix chain observed per lookup'), collect: viewSum('lookupHits') }),
    new LookupLatencyFamily(hub),
    ...(['suppressed', 'forwarded'] as const).map(
      (what) =>
        new CollectedFamily({
          type: 'counter',
          name: `${LLMD}kv_cache_events_dedup_removed_hashes_${what}_total`,
          help: alpha(what === 'suppressed' ? 'Block hashes whose removal was suppressed by the KV-event dedup filter (block hashes, not BlockRemoved events)' : 'Block hashes forwarded for eviction after the KV-event dedup filter (block hashes, not BlockRemoved events)'),
          collect: (emit) => {
            let n = 0;
            for (const v of hub()?.views() ?? []) n += v.ingestor.counts.get(DEDUP_KEYS[what]) ?? 0;
            emit(n);
          },
        }),
    ),
    new CollectedFamily({
      type: 'gauge',
      name: 'infergate_kv_cache_index_capacity',
      help: 'Keys the precise prefix index keeps at most (indexerConfig.kvBlockIndexConfig.inMemoryConfig.size), summed over its distinct settings; its size is llm_d_epp_prefix_indexer_size.',
      collect: (emit) => {
        let n = 0;
        for (const v of hub()?.views() ?? []) n += v.index.capacity;
        emit(n);
      },
    }),
    new CollectedFamily({
      type: 'gauge',
      name: `${LLMD}kv_cache_events_active_subscribers`,
      help: alpha('Number of ZMQ subscribers currently managed, including those retrying a failed connection'),
      collect: (emit) => {
        let n = 0;
        for (const f of feeds()) if (f.subscribed) n++;
        // llm-d's central mode (zmqEndpoint) counts its one bound socket too; it is opened with a view's first pod.
        for (const v of hub()?.views() ?? []) if (v.settings.zmqEndpoint !== '' && !v.feeds().next().done) n++;
        emit(n);
      },
    }),
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_events_messages_received_total`, help: alpha('Total number of messages received from ZMQ subscribers'), labelNames: POD, collect: perPod((f) => f.stream.messages) }),
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_events_subscriber_reconnections_total`, help: alpha('Total number of ZMQ subscriber reconnection attempts'), labelNames: POD, collect: perPod((f) => f.reconnectAttempts) }),
    // llm-d's replay series (router pkg/kvcache/metrics/replay.go): is a pod's index being rebuilt, and when did a rebuild last succeed.
    new CollectedFamily({ type: 'gauge', name: `${LLMD}kv_cache_events_replay_active`, help: alpha('1 while a KV-event replay attempt is in flight for the subscriber'), labelNames: POD, collect: perPod((f) => (f.stream.replays.active ? 1 : 0)) }),
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_events_replay_completed_total`, help: alpha('Total number of KV-event replay attempts that completed successfully'), labelNames: POD, collect: perPod((f) => f.stream.replays.completed) }),
    new CollectedFamily({
      type: 'counter',
      name: `${LLMD}kv_cache_events_replay_failures_total`,
      help: alpha('Total number of KV-event replay attempts that ended without completing; the reason is in kv_cache_events_zmq_errors_total'),
      labelNames: POD,
      collect: perPod((f) => f.stream.replays.failed),
    }),
    new CollectedFamily({ type: 'counter', name: `${LLMD}kv_cache_events_replay_processed_total`, help: alpha('Total number of KV-events forwarded to the processing pool by replay'), labelNames: POD, collect: perPod((f) => f.stream.replays.processed) }),
    new CollectedFamily({
      type: 'gauge',
      name: `${LLMD}kv_cache_events_replay_last_completion_timestamp_seconds`,
      help: alpha('Unix timestamp of the most recent successful KV-event replay for the subscriber'),
      labelNames: POD,
      collect: (emit) => {
        // Absent until the pod's first successful replay, as llm-d's.
        for (const f of feeds()) if (f.stream.replays.lastCompletedAt > 0) emit(f.stream.replays.lastCompletedAt / 1000, f.address);
      },
    }),
    new CollectedFamily({
      type: 'counter',
      name: `${LLMD}kv_cache_events_zmq_errors_total`,
      help: alpha('Total number of ZMQ subscriber errors'),
      labelNames: [...POD, 'operation'],
      collect: (emit) => {
        for (const f of feeds()) for (const [op, n] of f.zmqErrors) emit(n, f.address, op);
      },
    }),
    ...(['store', 'removal'] as const).map(
      (what) =>
        new CollectedFamily({
          type: 'counter',
          name: `${LLMD}kv_cache_events_${what === 'store' ? 'stores' : 'removals'}_skipped_total`,
          help: alpha(what === 'store' ? 'Total number of KV-cache store events skipped before prefix indexing' : 'Total number of KV-cache removal events skipped for groups excluded from prefix indexing'),
          labelNames: ['cache_kind', 'reason'],
          collect: (emit) => {
            const sums = new Map<string, number>();
            for (const v of hub()?.views() ?? []) for (const [k, n] of v.ingestor.counts) if (k.startsWith(`${what}\n`)) sums.set(k, (sums.get(k) ?? 0) + n);
            for (const [k, n] of sums) {
              const [, kind, reason] = k.split('\n');
              emit(n, kind!, reason!);
            }
          },
        }),
    ),
    new CollectedFamily({
      type: 'counter',
      name: 'infergate_kv_events_problems_total',
      help: 'KV-event input a pod sent that could not be used as is, by problem: frame-count, short-seq, bad-seq, msgpack, batch-shape, event-shape (messages dropped); unknown-event-type (events skipped); hash-as-bytes (hashes converted); gap, sequence-reset, flood, silent, replay-failed, disconnected (stream faults); unknown-parent, token-count, no-model, unsupported-cache-kind (stores skipped); topic-model (the topic names another model than the pod serves: no request can match its blocks). Each is logged once per pod.',
      labelNames: [...POD, 'problem'],
      collect: (emit) => {
        for (const f of feeds()) for (const [p, n] of f.problems) emit(n, f.address, p);
      },
    }),
    new CollectedFamily({
      type: 'gauge',
      name: 'infergate_kv_events_last_message_age_seconds',
      help: 'Seconds since the pod\'s last KV-event message (since its subscription opened, before the first). An idle engine publishes nothing; a busy one that stays quiet has a stopped publisher.',
      labelNames: POD,
      collect: (emit) => {
        const now = Date.now();
        for (const f of feeds()) emit(Math.max(0, (now - f.stream.lastMessageAt) / 1000), f.address);
      },
    }),
    new CollectedFamily({
      type: 'counter',
      name: 'infergate_kv_events_worker_restarts_total',
      help: 'Times the KV-event ingestion worker thread died and was restarted (--kv-events-ingestion worker); each is logged as an error, and the pods are scored on the approximate view until their streams are back.',
      collect: (emit) => emit(hub()?.worker?.restarts ?? 0),
    }),
    new CollectedFamily({
      type: 'gauge',
      name: 'infergate_kv_events_pod_untrusted',
      help: 'Pods whose precise prefix view is not trusted now, and why (connecting, disconnected, replaying, resyncing, flood, silent, recovering): they are scored on the approximate view until it recovers.',
      labelNames: [...POD, 'reason'],
      collect: (emit) => {
        for (const v of hub()?.views() ?? []) for (const [address, why] of v.untrusted()) emit(1, address, why);
      },
    }),
  ];
}

const LOOKUP_BUCKET_LABELS = Object.freeze([...PROMETHEUS_DEFAULT.map((le) => Object.freeze({ le })), Object.freeze({ le: '+Inf' })]);

/** llm-d's lookup latency histogram (unlabelled), summed at scrape time over the views' own series. */
class LookupLatencyFamily implements Collectable {
  readonly name = `${LLMD}kv_cache_index_lookup_latency_seconds`;
  readonly help = alpha('Latency of Lookup calls in seconds');
  readonly type = 'histogram' as const;
  readonly #hub: () => KvEventsHub | undefined;

  constructor(hub: () => KvEventsHub | undefined) {
    this.#hub = hub;
  }

  reset(): void {}

  async get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: 'sum' }> {
    const counts = new Float64Array(PROMETHEUS_DEFAULT.length + 1);
    let sum = 0;
    let count = 0;
    for (const v of this.#hub()?.views() ?? []) {
      const s = v.lookupLatency;
      for (let i = 0; i < counts.length; i++) counts[i]! += s.counts[i] as number;
      sum += s.sum;
      count += s.count;
    }
    const values: Sample[] = [];
    histogramSamples(this.name, LOOKUP_BUCKET_LABELS, {}, counts, sum, count, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}
