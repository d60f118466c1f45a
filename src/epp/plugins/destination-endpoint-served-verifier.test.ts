import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerBuiltins } from './register-builtins.js';
import { CONFORMANCE_TEST_RESULT_HEADER, DESTINATION_ENDPOINT_SERVED_VERIFIER_TYPE, DestinationEndpointServedVerifier } from './destination-endpoint-served-verifier.js';
import { Endpoint } from '../datastore/endpoint.js';
import { pod } from '../../api/test-fixtures.js';
import type { SchedulingContext } from '../framework/plugin.js';

test('destination-endpoint-served-verifier writes the served endpoint (ip:port) into x-conformance-test-served-endpoint', () => {
  const set: [string, string][] = [];
  const served = new Endpoint(pod('p').ip('10.0.0.7').ready(), '10.0.0.7', 3002);
  new DestinationEndpointServedVerifier().responseHeaders({} as SchedulingContext, served, (n, v) => set.push([n, v]));
  assert.deepEqual(set, [[CONFORMANCE_TEST_RESULT_HEADER, '10.0.0.7:3002']]);
  assert.equal(CONFORMANCE_TEST_RESULT_HEADER, 'x-conformance-test-served-endpoint');
  assert.ok(registerBuiltins().has(DESTINATION_ENDPOINT_SERVED_VERIFIER_TYPE), 'registered under GIE\'s type name');
});
