import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundPort, kvEventsPublisher } from './vllm-kv-events.js';

const JSON_ON = '{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:5556","topic":"kv@x@m"}';

test('what a container says of its KV events, as vLLM reads --kv-events-config', () => {
  const cases: { name: string; containers: unknown; want: ReturnType<typeof kvEventsPublisher> }[] = [
    { name: 'no model server', containers: [{ args: ['nginx'] }], want: undefined },
    { name: 'no flag: vLLM publishes nothing', containers: [{ args: ['--model', 'm'] }], want: { publishes: false, why: 'no --kv-events-config', endpoint: 'tcp://*:5557', topic: '' } },
    { name: 'JSON as the next word', containers: [{ args: ['--model', 'm', '--kv-events-config', JSON_ON] }], want: { publishes: true, endpoint: 'tcp://*:5556', topic: 'kv@x@m' } },
    { name: 'JSON after =', containers: [{ args: ['--model', 'm', `--kv-events-config=${JSON_ON}`] }], want: { publishes: true, endpoint: 'tcp://*:5556', topic: 'kv@x@m' } },
    { name: 'events off', containers: [{ args: ['--model', 'm', '--kv-events-config', '{"enable_kv_cache_events":false}'] }], want: { publishes: false, why: '--kv-events-config has enable_kv_cache_events false', endpoint: 'tcp://*:5557', topic: '' } },
    { name: 'a null publisher', containers: [{ args: ['--model', 'm', '--kv-events-config', '{"enable_kv_cache_events":true,"publisher":"null"}'] }], want: { publishes: false, why: '--kv-events-config has publisher "null"', endpoint: 'tcp://*:5557', topic: '' } },
    { name: 'dotted fields', containers: [{ args: ['--model', 'm', '--kv-events-config.enable_kv_cache_events', 'true', '--kv-events-config.endpoint=tcp://*:6000'] }], want: { publishes: true, endpoint: 'tcp://*:6000', topic: '' } },
    { name: 'inside sh -c, quotes escaped', containers: [{ command: ['sh', '-c'], args: ['vllm serve m --kv-events-config "{\\"enable_kv_cache_events\\":true,\\"topic\\":\\"kv@a@m\\"}"'] }], want: { publishes: true, endpoint: 'tcp://*:5557', topic: 'kv@a@m' } },
    { name: 'not JSON: unknown', containers: [{ args: ['--model', 'm', '--kv-events-config', '{enable'] }], want: undefined },
    { name: 'the model-server container, not a sidecar', containers: [{ args: ['--kv-events-config', JSON_ON] }, { args: ['--model', 'm'] }], want: { publishes: false, why: 'no --kv-events-config', endpoint: 'tcp://*:5557', topic: '' } },
  ];
  for (const c of cases) assert.deepEqual(kvEventsPublisher(c.containers), c.want, c.name);
});

test('a bound endpoint gives its port; one that connects to a host gives none', () => {
  assert.equal(boundPort('tcp://*:5556'), 5556);
  assert.equal(boundPort('tcp://0.0.0.0:5557'), 5557);
  assert.equal(boundPort('tcp://[::]:5557'), 5557);
  assert.equal(boundPort('tcp://gateway.llm-d:5557'), undefined);
  assert.equal(boundPort('ipc:///tmp/kv'), undefined);
});
