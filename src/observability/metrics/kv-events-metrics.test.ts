/** kvEventsFamilies: llm-d's KV-cache index and event series carry its names and help texts (router pkg/kvcache/metrics). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { register } from './family.js';
import { kvEventsFamilies } from './kv-events-metrics.js';
import { KvEventsHub } from '../../kvevents/kv-events-hub.js';
import { defaultKvEventsSettings } from '../../kvevents/kv-events-settings.js';
import type { KvCacheEvent } from '../../kvevents/wire-format.js';
import { createLogger } from '../../logger.js';

test("llm-d's help texts, word for word, with its [ALPHA] stability prefix", async () => {
  const registry = new Registry();
  for (const f of kvEventsFamilies(() => undefined)) register(registry, f);
  const text = await registry.metrics();
  const cases: [string, string][] = [
    ['llm_d_epp_kv_cache_index_admissions_total', 'Total number of KV-block admissions'],
    ['llm_d_epp_kv_cache_index_evictions_total', 'Total number of KV-block evictions'],
    ['llm_d_epp_kv_cache_index_lookup_requests_total', 'Total number of lookup calls'],
    ['llm_d_epp_kv_cache_index_lookup_hits_total', 'Contiguous prefix blocks matched by the best pod per lookup'],
    ['llm_d_epp_kv_cache_events_active_subscribers', 'Number of ZMQ subscribers currently managed, including those retrying a failed connection'],
    ['llm_d_epp_kv_cache_events_messages_received_total', 'Total number of messages received from ZMQ subscribers'],
    ['llm_d_epp_kv_cache_events_subscriber_reconnections_total', 'Total number of ZMQ subscriber reconnection attempts'],
    ['llm_d_epp_kv_cache_events_zmq_errors_total', 'Total number of ZMQ subscriber errors'],
    ['llm_d_epp_kv_cache_index_lookup_latency_seconds', 'Latency of Lookup calls in seconds'],
    ['llm_d_epp_kv_cache_events_dedup_removed_hashes_suppressed_total', 'Block hashes whose removal was suppressed by the KV-event dedup filter (block hashes, not BlockRemoved events)'],
    ['llm_d_epp_kv_cache_events_dedup_removed_hashes_forwarded_total', 'Block hashes forwarded for eviction after the KV-event dedup filter (block hashes, not BlockRemoved events)'],
  ];
  for (const [name, help] of cases) assert.equal(new RegExp(`^# HELP ${name} (.*)$`, 'm').exec(text)?.[1], `[ALPHA] ${help}`, name);
});

test('lookups are timed in llm-d\'s buckets; removals the dedup filter held back or let through are counted', async () => {
  const hub = new KvEventsHub({ log: createLogger('error', () => undefined), ingestion: 'in-thread' });
  try {
    const view = hub.view(defaultKvEventsSettings({ blockSize: 4 }));
    const pod = view.index.podId('10.0.0.1:8000');
    const tokens = Array.from({ length: 8 }, (_, i) => i + 1);
    const store: KvCacheEvent = { type: 'BlockStored', blockHashes: [11n, 12n], parentBlockHash: null, tokenIds: tokens, blockSize: 4, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null };
    const remove: KvCacheEvent = { type: 'BlockRemoved', blockHashes: [11n, 12n], medium: 'GPU', groupIdx: null };
    view.ingestor.apply(pod, 'm', { ts: 0, events: [store, store, remove], dataParallelRank: null }, () => undefined);
    for (let i = 0; i < 3; i++) view.lookup(view.hasher.keys(tokens, 'm'));
    const registry = new Registry();
    for (const f of kvEventsFamilies(() => hub)) register(registry, f);
    const text = await registry.metrics();
    const line = (series: string): string | undefined => text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.match(text, /^# TYPE llm_d_epp_kv_cache_index_lookup_latency_seconds histogram$/m);
    const les = [...text.matchAll(/^llm_d_epp_kv_cache_index_lookup_latency_seconds_bucket\{le="([^"]+)"\}/gm)].map((m) => m[1]);
    assert.deepEqual(les, ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    assert.equal(line('llm_d_epp_kv_cache_index_lookup_latency_seconds_count'), 'llm_d_epp_kv_cache_index_lookup_latency_seconds_count 3');
    assert.equal(line('llm_d_epp_kv_cache_events_dedup_removed_hashes_suppressed_total'), 'llm_d_epp_kv_cache_events_dedup_removed_hashes_suppressed_total 2');
    assert.equal(line('llm_d_epp_kv_cache_events_dedup_removed_hashes_forwarded_total'), 'llm_d_epp_kv_cache_events_dedup_removed_hashes_forwarded_total 0');
  } finally {
    await hub.close();
  }
});
