/** renderPlan: the trace explain prints, here what it says of a tie on the top total. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CycleTrace } from '../epp/framework/run-cycle.js';
import type { RoutePlan } from '../plan/plan-request.js';
import { renderPlan } from './render-plan.js';

function planOf(totals: number[]): RoutePlan {
  const scored = totals.map((_, i) => `127.0.222.${i + 2}:8000`);
  const trace: CycleTrace = { profile: 'default', candidates: scored, filters: [], scored, scorers: [{ name: 'queue-scorer', type: 'queue-scorer', weight: 1, scores: totals }], totals, picked: scored[0]! };
  return { steps: [], routingHeaders: {}, priority: 0, tracing: true, schedule: { results: new Map([['default', { profile: 'default', scored: [], trace }]]) } } as unknown as RoutePlan;
}

test('a pick tied with others on the top total says the tie is broken at random; a clear winner says nothing of ties', () => {
  const tied = renderPlan(planOf([0.5, 0.5, 0.2])).join('\n');
  assert.match(tied, /127\.0\.222\.2:8000 is tied with 127\.0\.222\.3:8000 on 0\.500: the pick among them is random, so the same request sent to the gateway may go to another/);
  assert.doesNotMatch(renderPlan(planOf([0.9, 0.5])).join('\n'), /tied/);
});

test('what a scorer says its scores rest on is printed under the table, as a whole and per endpoint', () => {
  const plan = planOf([1, 0]);
  const trace = plan.schedule!.results.get('default')!.trace!;
  trace.scorers[0] = { ...trace.scorers[0]!, name: 'prefix-cache-scorer', basis: 'approximate view: no tokens', notes: { '127.0.222.3:8000': 'approximate view: its KV events are not trusted now (silent)' } };
  const text = renderPlan(plan).join('\n');
  assert.match(text, /\n {3}prefix-cache-scorer: approximate view: no tokens\n/);
  assert.match(text, /\n {3}prefix-cache-scorer on 127\.0\.222\.3:8000: approximate view: its KV events are not trusted now \(silent\)/);
});
