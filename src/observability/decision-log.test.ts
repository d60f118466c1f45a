import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionLog, type Decision } from './decision-log.js';

const d = (id: string): Decision => ({ time: '', requestId: id, pool: 'p', model: 'm', priority: 0, picked: null, profiles: [] });

test('DecisionLog keeps the last N, newest first', () => {
  const log = new DecisionLog(3);
  for (const id of ['a', 'b', 'c', 'd']) log.record(d(id));
  assert.deepEqual(log.recent().map((x) => x.requestId), ['d', 'c', 'b']);
  assert.deepEqual(log.recent(2).map((x) => x.requestId), ['d', 'c']);
});

test('DecisionLog with capacity 0 records nothing', () => {
  const log = new DecisionLog(0);
  log.record(d('a'));
  assert.equal(log.enabled, false);
  assert.deepEqual(log.recent(), []);
});
