import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindAddress, bindsEndpoint } from './zmq-endpoint.js';

test('vLLM\'s rule: bind with * or ::, or ipc/inproc; connect otherwise', () => {
  const cases: Array<[string, boolean]> = [
    ['tcp://*:5557', true],
    ['tcp://127.0.94.1:*', true],
    ['tcp://[::]:5557', true],
    ['ipc:///tmp/kv', true],
    ['inproc://kv', true],
    ['tcp://127.0.94.1:5557', false],
    ['tcp://epp.svc:5556', false],
  ];
  for (const [endpoint, binds] of cases) assert.equal(bindsEndpoint(endpoint), binds, endpoint);
});

test('* as the host binds the simulated pod\'s own address, so a fleet shares the port like pods do', () => {
  assert.equal(bindAddress('tcp://*:5557', '127.0.94.3'), 'tcp://127.0.94.3:5557');
  assert.equal(bindAddress('tcp://*:5557', '::1'), 'tcp://[::1]:5557');
  assert.equal(bindAddress('tcp://*:5557', '0.0.0.0'), 'tcp://*:5557');
  assert.equal(bindAddress('tcp://127.0.94.1:*', '127.0.94.3'), 'tcp://127.0.94.1:*', 'an explicit host stays');
  assert.equal(bindAddress('ipc:///tmp/kv', '127.0.94.3'), 'ipc:///tmp/kv');
});
