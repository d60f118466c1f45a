/** Tests for counting prefix holders in kept scheduling decisions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixHolders, prefixHoldersTable, type KeptDecision } from './prefix-holders.js';

const PODS = ['a:1', 'b:1', 'c:1'];

function decision(prefix: number[], picked: string | null, scorer = 'prefix-cache-scorer'): KeptDecision {
  return { time: '2026-12-06T16:00:00.000Z', picked, profiles: [{ scored: PODS, scorers: [{ type: scorer, scores: prefix }, { type: 'queue-scorer', scores: [1, 0, 1] }] }] };
}

test('one, several or no pods above 0.3, and picks that left every holder', () => {
  const newestFirst = [
    decision([0.83, 0, 0], 'a:1'), // one holder, picked
    decision([1, 0, 0], 'c:1'), // one holder, picked elsewhere
    decision([0.9, 0.83, 0], 'b:1'), // two holders, picked one of them
    decision([0, 0.2, 0], 'c:1'), // nobody holds it (0.2 is a stray block or two)
    decision([0.5, 0, 0], null), // no pick: not counted
    decision([0.83, 0, 0], 'a:1', 'kv-cache-utilization-scorer'), // no prefix scorer: not counted
    decision([0, 0, 0], 'a:1'), // the warm-up's, oldest: left out
  ];
  assert.deepEqual(prefixHolders(newestFirst, 1), { decisions: 4, noHolder: 1, oneHolder: 2, severalHolders: 1, awayFromHolder: 1 });
  // Without the skip the warm-up's decision counts too; skipping more than there is leaves none.
  assert.equal(prefixHolders(newestFirst, 0).noHolder, 2);
  assert.deepEqual(prefixHolders(newestFirst, 99), { decisions: 0, noHolder: 0, oneHolder: 0, severalHolders: 0, awayFromHolder: 0 });
});

test('the table has a row per run that has counts', () => {
  const holders = { decisions: 4, noHolder: 1, oneHolder: 2, severalHolders: 1, awayFromHolder: 1 };
  const table = prefixHoldersTable([{ label: 'precise, 6 req/s', holders }, { label: 'round-robin' }]);
  assert.equal(table.split('\n').length, 3);
  assert.match(table, /\| precise, 6 req\/s \| 4 \| 2 \| 1 \| 1 \| 1 \|$/);
  assert.equal(prefixHoldersTable([{ label: 'round-robin' }]), '');
});
