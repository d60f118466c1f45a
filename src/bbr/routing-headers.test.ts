/** isReservedRoutingHeader: the headers only the gateway may set. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isReservedRoutingHeader } from './routing-headers.js';

describe('isReservedRoutingHeader', () => {
  const cases: { name: string; reserved: boolean }[] = [
    { name: 'x-gateway-model-name', reserved: true },
    { name: 'x-gateway-base-model-name', reserved: true },
    { name: 'x-gateway-destination-endpoint', reserved: true },
    { name: 'x-gateway-destination-endpoint-subset', reserved: true },
    { name: 'x-gateway-destination-endpoint-served', reserved: true },
    // llm-d's routing-sidecar headers, both spellings: a client must not pick a decode pod's prefill host.
    { name: 'x-llm-d-prefiller-host-port', reserved: true },
    { name: 'x-prefiller-host-port', reserved: true },
    { name: 'x-llm-d-encoder-hosts-ports', reserved: true },
    { name: 'x-encoder-hosts-ports', reserved: true },
    { name: 'x-data-parallel-host-port', reserved: true },
    { name: 'x-llm-d-kv-cache-source-host-port', reserved: true },
    { name: 'x-kv-cache-source-host-port', reserved: true },
    { name: 'x-gateway-inference-objective', reserved: false },
    { name: 'x-gateway-model', reserved: false },
    { name: 'x-gateway-model-name-suffix', reserved: false },
    { name: 'x-session-token', reserved: false },
    { name: 'content-type', reserved: false },
    { name: 'authorization', reserved: false },
    { name: 'host', reserved: false },
    { name: '', reserved: false },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.name)} ${c.reserved ? 'is' : 'is not'} reserved`, () => assert.equal(isReservedRoutingHeader(c.name), c.reserved));
  }
});
