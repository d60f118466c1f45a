import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_KV_EVENTS_CONFIG, parseKvEventsConfig, publishesKvEvents, topicAdvice } from './kv-events-config.js';

test('vLLM\'s defaults: publisher follows enable_kv_cache_events; endpoint tcp://*:5557, 10000 buffered steps, empty topic', () => {
  assert.deepEqual(parseKvEventsConfig('{}'), DEFAULT_KV_EVENTS_CONFIG);
  const on = parseKvEventsConfig({ enable_kv_cache_events: true });
  assert.deepEqual(on, { ...DEFAULT_KV_EVENTS_CONFIG, enableKvCacheEvents: true, publisher: 'zmq' });
  assert.equal(publishesKvEvents(on), true);
  assert.equal(publishesKvEvents(parseKvEventsConfig({ enable_kv_cache_events: true, publisher: 'null' })), false);
  assert.equal(publishesKvEvents(parseKvEventsConfig({ publisher: 'zmq' })), false, 'events off: nothing to publish');
  assert.equal(publishesKvEvents(null), false);
});

test('every field of the llm-d guide\'s config is read', () => {
  const c = parseKvEventsConfig(JSON.stringify({
    enable_kv_cache_events: true, publisher: 'zmq', endpoint: 'tcp://*:5556', replay_endpoint: 'tcp://*:5559',
    buffer_steps: 50, hwm: 1000, max_queue_size: 10, topic: 'kv@10.0.0.5:8000@meta-llama/Llama-3.1-8B',
  }));
  assert.deepEqual(c, {
    enableKvCacheEvents: true, publisher: 'zmq', endpoint: 'tcp://*:5556', replayEndpoint: 'tcp://*:5559',
    bufferSteps: 50, hwm: 1000, maxQueueSize: 10, topic: 'kv@10.0.0.5:8000@meta-llama/Llama-3.1-8B',
  });
});

test('mistakes are rejected with the field named', () => {
  const cases: Array<[string, RegExp]> = [
    ['not json', /not valid JSON/],
    ['[1]', /must be a JSON object/],
    ['{"enable_kv_events":true}', /unknown field `enable_kv_events`/],
    ['{"enable_kv_cache_events":"yes"}', /enable_kv_cache_events/],
    ['{"publisher":"nats"}', /publisher/],
    ['{"endpoint":"127.0.0.1:5557"}', /`endpoint` must be a ZMQ endpoint/],
    ['{"replay_endpoint":"tcp://host"}', /`replay_endpoint` must be a ZMQ endpoint/],
    ['{"buffer_steps":-1}', /buffer_steps/],
    ['{"hwm":1.5}', /`hwm` must be an integer of at least 0/],
    ['{"topic":5}', /topic/],
  ];
  for (const [json, want] of cases) assert.throws(() => parseKvEventsConfig(json), want, json);
});

test('0 means what it means to vLLM: hwm and max_queue_size unlimited, buffer_steps keeps nothing', () => {
  const c = parseKvEventsConfig('{"enable_kv_cache_events":true,"hwm":0,"max_queue_size":0,"buffer_steps":0}');
  assert.equal(c.hwm, 0);
  assert.equal(c.maxQueueSize, 0);
  assert.equal(c.bufferSteps, 0);
});

test('a topic llm-d\'s subscribers would not receive, or could not key, gets advice; kv@<pod>@<model> none', () => {
  assert.match(topicAdvice('')!, /does not start with kv@; .*will receive none of these events/);
  assert.match(topicAdvice('vllm-events')!, /does not start with kv@/);
  assert.match(topicAdvice('kv@10.0.0.5:8000')!, /names no model/);
  assert.match(topicAdvice('kv@10.0.0.5:8000@')!, /names no model/);
  assert.equal(topicAdvice('kv@10.0.0.5:8000@meta-llama/Llama-3.1-8B'), null);
  assert.equal(topicAdvice('kv@10.0.0.5:8000@org@model'), null, 'a model may hold @');
});
