import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datastore } from '../epp/datastore/datastore.js';
import type { PoolSchedulers } from '../epp/pool-schedulers.js';
import { createLogger } from '../logger.js';
import { FlowControl } from './flow-control.js';
import type { FlowControlConfig } from './flow-control-config.js';
import { config } from './test-fixtures.js';

/** The two views reconcile reads: the pools, and each one's flow-control config (undefined: the gate is off). */
function fleet(configs: Record<string, FlowControlConfig | undefined>): { schedulers: PoolSchedulers; datastore: Datastore } {
  const datastore = { pools: () => Object.keys(configs).map((key) => ({ key, endpoints: [] })), pool: () => undefined } as unknown as Datastore;
  const schedulers = { forPool: (key: string) => ({ loaded: { flowControl: configs[key] } }) } as unknown as PoolSchedulers;
  return { schedulers, datastore };
}

test('the log says when a pool turns flow control on and off, once each, with its limits', () => {
  const lines: string[] = [];
  const log = createLogger('info', (l) => lines.push(l));
  const fc = new FlowControl();
  const on = fleet({ 'llm/a': config({ maxRequests: 50 }), 'llm/b': undefined });
  fc.reconcile(on.schedulers, on.datastore, log);
  fc.reconcile(on.schedulers, on.datastore, log); // unchanged: nothing more said
  assert.equal(fc.enabled, true);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /INFO +flow control on: requests wait in its queues while the pool is saturated pool=llm\/a max_requests=50 max_bytes=unset ttl_ms=\d+/);
  const off = fleet({ 'llm/a': undefined, 'llm/b': undefined });
  fc.reconcile(off.schedulers, off.datastore, log);
  assert.equal(fc.enabled, false);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[1]!, /INFO +flow control off: requests go straight to the pick pool=llm\/a released_waiting=0/);
});
