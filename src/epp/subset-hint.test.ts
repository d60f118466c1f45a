import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pod } from '../api/test-fixtures.js';
import { Endpoint } from './datastore/endpoint.js';
import type { PoolView } from './datastore/datastore.js';
import { NoEndpointError } from './eligibility.js';
import { GatewayError } from '../errors.js';
import { restrictToSubset, subsetHint } from './subset-hint.js';

const ep = (ip: string, port: number): Endpoint => new Endpoint(pod(`p-${ip}-${port}`).ip(ip).ready(), ip, port);
// Two pods; the first serves two data-parallel ranks on two ports.
const pool: PoolView = { key: 'default/p', pool: undefined as never, endpoints: [ep('10.0.0.1', 8000), ep('10.0.0.1', 8001), ep('10.0.0.2', 8000), ep('fd00::3', 8000)], excluded: [] };
const kept = (subset: string[]): string[] => restrictToSubset(pool, subset).endpoints.map((e) => e.address);

test('an entry naming a port the pod does not serve on matches the pod by its IP, as GIE and llm-d match (no 503)', () => {
  assert.deepEqual(kept(['10.0.0.2:9999']), ['10.0.0.2:8000']);
  assert.deepEqual(kept(['10.0.0.1:80']), ['10.0.0.1:8000', '10.0.0.1:8001']);
  assert.deepEqual(kept(['[fd00::3]:80']), ['[fd00::3]:8000']);
});

test("an entry naming one of the pool's ports on that IP keeps to it: the other ranks of the pod are left out", () => {
  assert.deepEqual(kept(['10.0.0.1:8001']), ['10.0.0.1:8001']);
  assert.deepEqual(kept(['10.0.0.1:8001', '10.0.0.1:80', '10.0.0.2:8000']), ['10.0.0.1:8001', '10.0.0.2:8000']);
  assert.deepEqual(kept(['[fd00::3]:8000']), ['[fd00::3]:8000']);
});

test('a bare IP (v4, v6, bracketed v6) matches every port of that address', () => {
  assert.deepEqual(kept(['10.0.0.1']), ['10.0.0.1:8000', '10.0.0.1:8001']);
  assert.deepEqual(kept(['10.0.0.1:8001', '10.0.0.1']), ['10.0.0.1:8000', '10.0.0.1:8001']);
  assert.deepEqual(kept(['fd00::3']), ['[fd00::3]:8000']);
  assert.deepEqual(kept(['[fd00::3]']), ['[fd00::3]:8000']);
});

test('no listed IP in the pool, or an empty list: 503 naming the hint and the pool', () => {
  for (const subset of [['10.9.9.9:8000'], ['10.0.0.10'], []]) {
    assert.throws(() => restrictToSubset(pool, subset), (e: unknown) => e instanceof NoEndpointError && /subset hint .*the pool's endpoints: 10\.0\.0\.1:8000/.test(e.message));
  }
});

test('a comma-separated string (header_to_metadata of a header listing them) is split, as GIE\'s lightweight EPP splits it', () => {
  const hint = (v: unknown): string[] | undefined => subsetHint({ 'envoy.lb.subset_hint': { 'x-gateway-destination-endpoint-subset': v as string } });
  assert.deepEqual(hint('10.0.0.1:8001, 10.0.0.2:8000'), ['10.0.0.1:8001', '10.0.0.2:8000']);
  assert.deepEqual(hint(['10.0.0.1:8001,10.0.0.2:8000', ' fd00::3 ']), ['10.0.0.1:8001', '10.0.0.2:8000', 'fd00::3']);
  assert.deepEqual(hint(''), []);
  assert.equal(subsetHint({}), undefined);
  assert.throws(() => hint(7), (e: unknown) => e instanceof GatewayError && e.code === 'internal_error');
});
