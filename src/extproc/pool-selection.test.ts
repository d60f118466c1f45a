import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { namedPool, resolvePoolKey } from './pool-selection.js';
import { buildSnapshot } from '../config/snapshot.js';
import { GatewayError } from '../errors.js';
import type { GatewayState } from '../plan/plan-request.js';
import type { FilterMetadata } from '../envoy/struct-value.js';

test('where the data plane names the pool, in order of precedence', () => {
  const grpc = (v?: string): Metadata => {
    const m = new Metadata();
    if (v !== undefined) m.set('x-infergate-inference-pool', v);
    return m;
  };
  const cases: [string, FilterMetadata, string | undefined, string | undefined, string | undefined][] = [
    ['nothing', {}, undefined, undefined, undefined],
    ['infergate namespace', { infergate: { 'inference-pool': 'ns/a' } }, undefined, 'ns/a', 'filter metadata infergate.inference-pool'],
    ['ext_proc namespace', { 'envoy.filters.http.ext_proc': { 'inference-pool': ' b ' } }, undefined, 'b', 'filter metadata envoy.filters.http.ext_proc.inference-pool'],
    ['infergate wins over ext_proc', { 'envoy.filters.http.ext_proc': { 'inference-pool': 'b' }, infergate: { 'inference-pool': 'a' } }, undefined, 'a', 'filter metadata infergate.inference-pool'],
    ['GKE extension namespace', { 'com.google.lb_route_extension.ext.chain.epp': { 'inference-pool': 'default/c' } }, undefined, 'default/c', 'filter metadata com.google.lb_route_extension.ext.chain.epp.inference-pool'],
    ['other namespaces are not read', { 'some.filter': { 'inference-pool': 'x' } }, undefined, undefined, undefined],
    ['non-string and empty values are skipped', { infergate: { 'inference-pool': 3 }, 'envoy.filters.http.ext_proc': { 'inference-pool': ' ' } }, 'default/g', 'default/g', 'gRPC metadata x-infergate-inference-pool'],
    ['metadata wins over gRPC metadata', { infergate: { 'inference-pool': 'a' } }, 'g', 'a', 'filter metadata infergate.inference-pool'],
  ];
  for (const [name, metadata, g, value, source] of cases) {
    const got = namedPool(metadata, grpc(g));
    assert.deepEqual(got, value === undefined ? undefined : { value, source }, name);
  }
});

test('a named pool the Kubernetes source set aside as invalid is said to be invalid, with its problems, not missing', () => {
  const problems = ['kubernetes InferencePool llm/gemma: field spec.targetPorts[0].number: must be an integer from 1 to 65535, got number 70000'];
  const state = { snapshot: buildSnapshot([], { invalidPools: new Map([['llm/gemma', problems]]) }) } as unknown as GatewayState;
  const source = 'gRPC metadata x-infergate-inference-pool';
  for (const value of ['llm/gemma', 'gemma']) {
    assert.throws(
      () => resolvePoolKey(state, { value, source }),
      (e: unknown) => e instanceof GatewayError && e.code === 'pool_not_found' && e.message === `${source} names InferencePool llm/gemma, which is invalid and set aside until it is fixed: ${problems[0]}`,
      value,
    );
  }
  // A pool that is neither there nor set aside is still "not in the configuration".
  assert.throws(() => resolvePoolKey(state, { value: 'llm/other', source }), /names InferencePool llm\/other, which is not in the configuration/);
});
