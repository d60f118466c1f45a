/** fairShareHoldback: a flood holds its share only, a newcomer goes at the next free slot, one flow alone is not limited. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlowControlRejection } from './dropped-reason.js';
import { FairShareHoldback } from './fair-share-holdback.js';
import type { FlowControlConfig } from './flow-control-config.js';
import { FlowController, type Ticket } from './flow-controller.js';
import { RoundRobinFairnessPolicy } from './round-robin-fairness-policy.js';
import { Clock, band, config, endpoints, settle } from './test-fixtures.js';

/** A pool of one endpoint taking `capacity` requests at once; dispatch order by label, releases by flow. */
function harness(capacity: number, over: Partial<FlowControlConfig> = { fairShareHoldback: { activeWindowMs: 1000 } }) {
  const clock = new Clock();
  const fc = new FlowController('ns/pool', config(over, capacity), () => endpoints(1), {}, clock.now);
  const order: string[] = [];
  const send = (label: string, fairnessId: string, priority = 0): Ticket | undefined => {
    const t = fc.admit({ fairnessId, priority, bytes: 10 });
    if (!t) order.push(label);
    else t.done.then(() => order.push(label), (e: FlowControlRejection) => order.push(`${label}:${e.reason}`));
    return t;
  };
  const release = (fairnessId: string, priority = 0): void => fc.release({ fairnessId, priority });
  return { fc, order, send, release, clock };
}

describe('fairShareHoldback', () => {
  test('a newly arriving flow is dispatched at the next free slot, ahead of the flood that filled the pool', async () => {
    const h = harness(4);
    for (let i = 1; i <= 4; i++) h.send(`a${i}`, 'a'); // alone: takes the whole pool (work-conserving)
    for (let i = 5; i <= 8; i++) h.send(`a${i}`, 'a');
    h.send('b1', 'b');
    await settle();
    assert.deepEqual(h.order, ['a1', 'a2', 'a3', 'a4'], 'the pool is full');
    h.release('a');
    await settle();
    assert.deepEqual(h.order.slice(4), ['b1'], "b goes first: a's 3 in flight are over its share of 2");
    h.release('a');
    await settle();
    assert.deepEqual(h.order.slice(5), [], 'a is held at its share (2 of 4) while b is active, even with a slot free');
    assert.equal(h.fc.inFlight, 3);
  });

  test('the same arrivals without the holdback: global-strict serves the flood first (the case the holdback fixes)', async () => {
    const h = harness(4, {});
    for (let i = 1; i <= 8; i++) h.send(`a${i}`, 'a');
    h.send('b1', 'b');
    h.release('a');
    await settle();
    assert.deepEqual(h.order.slice(4), ['a5']);
  });

  test('work-conserving: a flow alone uses the whole pool, and gets it back once the other goes idle', async () => {
    const h = harness(4);
    for (let i = 1; i <= 6; i++) h.send(`a${i}`, 'a');
    assert.deepEqual(h.order, ['a1', 'a2', 'a3', 'a4']);
    h.release('a');
    await settle();
    assert.deepEqual(h.order.slice(4), ['a5'], 'alone, it refills the slot it freed');
    h.send('b1', 'b'); // the pool is full: b waits for the next slot
    h.release('a');
    await settle();
    assert.deepEqual(h.order.slice(5), ['b1']);
    h.release('b');
    h.release('a');
    h.release('a');
    await settle();
    assert.deepEqual(h.order.slice(6), ['a6'], 'a, down to 1 in flight, is under its share of 2 again');
    assert.equal(h.fc.length, 0);
  });

  test('after the active window passes, an idle flow no longer holds capacity back', async () => {
    const h = harness(2);
    h.send('b1', 'b');
    h.release('b');
    h.send('a1', 'a');
    h.send('a2', 'a');
    await settle();
    assert.deepEqual(h.order, ['b1', 'a1'], 'b arrived 0 ms ago: a keeps to its share of 1');
    h.clock.t += 1001;
    await settle();
    assert.deepEqual(h.order, ['b1', 'a1', 'a2'], 'b has been idle past activeWindow: a takes the pool');
  });

  test('a flow alone in a higher band is not limited by a lower one; the lower band keeps to its share', async () => {
    const h = harness(4);
    h.send('s1', 'a', -1);
    h.send('s2', 'a', -1);
    for (let i = 1; i <= 4; i++) h.send(`c${i}`, 'b', 10);
    await settle();
    assert.deepEqual(h.order, ['s1', 's2', 'c1', 'c2'], 'full: the critical flow waits for slots');
    h.release('a', -1);
    h.release('a', -1);
    await settle();
    assert.deepEqual(h.order.slice(4), ['c3', 'c4'], 'the critical flow takes every slot that frees: it is alone at its priority');
    h.send('s3', 'a', -1);
    h.release('b', 10);
    await settle();
    assert.deepEqual(h.order.slice(6), ['s3'], 'the sheddable flow gets a slot while under its share (2 of 4)');
  });

  test('per-flow counts: each release gives back its own flow; a release without a flow gives back the largest', () => {
    const l = new FairShareHoldback({ activeWindowMs: 0 });
    const a = { fairnessId: 'a', priority: 0 };
    const b = { fairnessId: 'b', priority: 0 };
    l.arrived(a, 0);
    l.dispatched(a, false);
    l.dispatched(a, false);
    l.arrived(b, 0);
    l.dispatched(b, false);
    l.released(b);
    assert.deepEqual([l.inFlight(a), l.inFlight(b)], [2, 0]);
    l.released(undefined);
    assert.deepEqual([l.inFlight(a), l.inFlight(b)], [1, 0]);
    l.released({ fairnessId: 'unknown', priority: 0 });
    assert.equal(l.inFlight(a), 1, 'a flow the ledger never counted changes nothing');
    const reading = l.read(1, 8);
    assert.equal(reading.activeFlows(0), 1, 'b, idle with a 0 s window, is forgotten');
    assert.equal(reading.share(0), Infinity);
  });

  test('round-robin orders the flows under their share; a flow active within the window keeps its share free', async () => {
    const h = harness(3, { fairShareHoldback: { activeWindowMs: 1000 }, defaultBand: band({ fairness: new RoundRobinFairnessPolicy() }) });
    h.send('x1', 'x');
    h.send('x2', 'x');
    h.send('x3', 'x');
    h.send('a1', 'a');
    h.send('b1', 'b');
    h.send('a2', 'a');
    for (let i = 0; i < 3; i++) h.release('x');
    await settle();
    assert.deepEqual(h.order.slice(3), ['a1', 'b1'], 'three active flows, a share of 1 each: a2 waits with a slot free');
    assert.equal(h.fc.inFlight, 2);
  });
});
