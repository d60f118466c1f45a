/** The load shapes: an open loop keeps to its gate even at rates faster than it can start requests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DispatchGate } from './dispatch-gate.js';
import { runOpenLoop } from './load-loops.js';
import { seededRandom } from '../seeded-random.js';

/** What starting one request costs the loop (building and writing it), here spent on purpose. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('open loop: a rate faster than requests can be started still stops when the gate closes (--duration, Ctrl-C)', async () => {
  const maxRequests = 50_000;
  const gate = new DispatchGate(() => {});
  // The run's deadline: a timer, which fires only if the loop gives the event loop a turn.
  const deadline = setTimeout(() => gate.close(), 20);
  let fired = 0;
  try {
    await runOpenLoop({
      rate: 1_000_000,
      maxRequests,
      gate,
      random: seededRandom(1),
      fire: async () => {
        fired++;
        busy(0.02);
      },
    });
  } finally {
    clearTimeout(deadline);
  }
  assert.ok(fired > 0, 'requests were sent');
  assert.ok(fired < maxRequests, `the deadline stopped the run after ${fired} of ${maxRequests} requests`);
  assert.equal(gate.isOpen, false);
});
