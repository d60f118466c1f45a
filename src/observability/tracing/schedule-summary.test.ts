import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { CycleTrace } from '../../epp/framework/run-cycle.js';
import { scheduleSummary } from './schedule-summary.js';

const trace = (profile: string, picked: string | undefined): CycleTrace => ({
  profile,
  candidates: ['a:1', 'b:1', 'c:1'],
  filters: [{ name: 'f', type: 'f', removed: ['c:1'], remaining: 2 }],
  scored: ['a:1', 'b:1'],
  scorers: [{ name: 'prefix', type: 'prefix-cache-scorer', weight: 3, scores: [1 / 3, 0.9] }],
  totals: [1, 2.7],
  ...(picked ? { picked } : {}),
});

it('summarizes one profile under infergate.scheduling.*', () => {
  assert.deepEqual(scheduleSummary([trace('default', 'b:1')]), {
    'infergate.scheduling.profile': 'default',
    'infergate.scheduling.candidates': 3,
    'infergate.scheduling.filtered_out': 1,
    'infergate.scheduling.picked': 'b:1',
    'infergate.scheduling.total': 2.7,
    'infergate.scheduling.scorer.prefix.weight': 3,
    'infergate.scheduling.scorer.prefix.score': 0.9,
    'infergate.scheduling.scorer.prefix.max': 0.9,
  });
});

it('keys each of several profiles by its name, and leaves out the pick when there is none', () => {
  const s = scheduleSummary([trace('prefill', 'a:1'), { ...trace('decode', undefined), emptiedBy: 'f' }]);
  assert.equal(s['infergate.scheduling.prefill.picked'], 'a:1');
  assert.equal(s['infergate.scheduling.prefill.scorer.prefix.score'], 0.3333);
  assert.equal(s['infergate.scheduling.decode.picked'], undefined);
  assert.equal(s['infergate.scheduling.decode.scorer.prefix.score'], undefined);
  assert.equal(s['infergate.scheduling.decode.emptied_by'], 'f');
  assert.equal(s['infergate.scheduling.profile'], undefined);
  assert.deepEqual(scheduleSummary([]), {});
});
