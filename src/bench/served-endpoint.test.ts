/** Which endpoint served a response, and whether it is an address we can ask. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAddress, servedEndpointFrom } from './served-endpoint.js';

test('servedEndpointFrom: the gateway header wins over the pod header; blank is absent', () => {
  const cases: [Record<string, string | string[] | undefined>, string | null][] = [
    [{ 'x-gateway-destination-endpoint-served': '10.0.0.1:8000', 'x-inference-pod': 'pod-a' }, '10.0.0.1:8000'],
    [{ 'x-inference-pod': 'pod-a' }, 'pod-a'],
    [{ 'x-gateway-destination-endpoint-served': ['10.0.0.2:8000', 'x'] }, '10.0.0.2:8000'],
    [{ 'x-gateway-destination-endpoint-served': '  ' }, null],
    [{}, null],
  ];
  for (const [headers, want] of cases) assert.equal(servedEndpointFrom(headers), want, JSON.stringify(headers));
});

test('isAddress: host:port forms yes, pod names no', () => {
  const cases: [string, boolean][] = [
    ['10.0.0.1:8000', true],
    ['[fd00::1]:8000', true],
    ['vllm-0.vllm.default.svc:8000', true],
    ['pod-a', false],
    ['10.0.0.1', false],
    ['http://10.0.0.1:8000', false],
  ];
  for (const [endpoint, want] of cases) assert.equal(isAddress(endpoint), want, endpoint);
});
