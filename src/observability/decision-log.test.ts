import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionLog, warnDebugDecisions, type Decision } from './decision-log.js';
import { createLogger } from '../logger.js';

const d = (id: string): Decision => ({ time: '', requestId: id, pool: 'p', model: 'm', priority: 0, picked: null, profiles: [] });

test('DecisionLog keeps the last N, newest first', () => {
  const log = new DecisionLog(3, { showRequestIds: true });
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

test('request ids are kept as keyed hashes by default: not shown, not guessable without the key, but found by ?request_id=', () => {
  const log = new DecisionLog(10);
  for (const id of ['alice@example.com-session-42', 'bob-1', 'alice@example.com-session-42']) log.record(d(id));
  const report = log.report(null);
  assert.equal(report.request_ids, 'hashed');
  const text = JSON.stringify(report);
  assert.ok(!text.includes('alice') && !text.includes('bob-1'), text);
  for (const x of report.decisions) assert.match(x.requestId, /^h:[0-9a-f]{20}$/);
  assert.equal(log.report(null, 'alice@example.com-session-42').decisions.length, 2);
  assert.equal(log.report(null, 'bob-1').decisions.length, 1);
  assert.equal(log.report(null, 'carol').decisions.length, 0);
  // Another process (another key) hashes the same id differently: a hash seen in one log says nothing elsewhere.
  assert.notEqual(new DecisionLog(1).hashId('bob-1'), log.hashId('bob-1'));
  assert.equal(new DecisionLog(1, { key: Buffer.alloc(32, 1) }).hashId('bob-1'), new DecisionLog(1, { key: Buffer.alloc(32, 1) }).hashId('bob-1'));
});

test('with showRequestIds the ids are kept as sent and looked up as sent', () => {
  const log = new DecisionLog(5, { showRequestIds: true });
  log.record(d('alice-1'));
  assert.equal(log.report(null).request_ids, 'shown');
  assert.equal(log.report(null, 'alice-1').decisions[0]?.requestId, 'alice-1');
});

test('the startup warning says what the output exposes and how ids appear', () => {
  const lines: string[] = [];
  const log = createLogger('info', (l) => lines.push(l));
  warnDebugDecisions(log, new DecisionLog(5));
  warnDebugDecisions(log, new DecisionLog(5, { showRequestIds: true }));
  assert.match(lines[0]!, /WARN .*per-request routing data.*prompt prefix.*keyed hashes/);
  assert.match(lines[1]!, /verbatim \(--debug-show-request-ids\)/);
});
