/** kvEventsFamilies: llm-d's KV-cache index and event series carry its names and help texts (router pkg/kvcache/metrics). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { register } from './family.js';
import { kvEventsFamilies } from './kv-events-metrics.js';

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
  ];
  for (const [name, help] of cases) assert.equal(new RegExp(`^# HELP ${name} (.*)$`, 'm').exec(text)?.[1], `[ALPHA] ${help}`, name);
});
