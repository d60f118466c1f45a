/** FlowController: immediate dispatch, waits, priority and fairness order, TTLs, limits, cancel, shutdown. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { FlowControlRejection } from './dropped-reason.js';
import { FlowController, type Ticket } from './flow-controller.js';
import { RoundRobinFairnessPolicy } from './round-robin-fairness-policy.js';
import { Clock, band, config, endpoints, settle } from './test-fixtures.js';

/** Tracks dispatch order by label; each dispatched request is held until `finish`. */
function harness(c = config(), eps: Endpoint[] = endpoints(1), clock = new Clock()) {
  let live = eps;
  const fc = new FlowController('ns/pool', c, () => live, {}, clock.now);
  const order: string[] = [];
  const outcomes = new Map<string, string>();
  const send = (label: string, fairnessId = 'default-flow', priority = 0, bytes = 10): Ticket | undefined => {
    const t = fc.admit({ fairnessId, priority, bytes });
    if (!t) order.push(label);
    else
      t.done.then(
        () => order.push(label),
        (e: FlowControlRejection) => outcomes.set(label, e.reason),
      );
    return t;
  };
  return { fc, order, outcomes, send, clock, setEndpoints: (e: Endpoint[]) => (live = e) };
}

describe('FlowController', () => {
  test("a usage limit policy's threshold closes the gate below saturation: 0.5 of four slots dispatches two", async () => {
    const h = harness(config({ usageCeiling: 0.5 }, 4));
    assert.equal(h.send('a'), undefined);
    assert.equal(h.send('b'), undefined);
    assert.ok(h.send('c'), 'two of four in flight: at the ceiling');
    h.fc.release();
    await settle();
    assert.deepEqual(h.order, ['a', 'b', 'c']);
  });

  test('dispatches at once while the pool has room, and queues once it is full', async () => {
    const h = harness();
    assert.equal(h.send('a'), undefined);
    assert.ok(h.send('b'));
    assert.equal(h.fc.length, 1);
    await settle();
    assert.deepEqual(h.order, ['a']);
    h.fc.release();
    await settle();
    assert.deepEqual(h.order, ['a', 'b']);
    assert.equal(h.fc.length, 0);
  });

  test('strict priority between bands: the highest band with work goes first', async () => {
    const h = harness();
    h.send('hold');
    h.send('low', 'default-flow', -1);
    h.send('mid', 'default-flow', 0);
    h.send('high', 'default-flow', 10);
    for (let i = 0; i < 3; i++) {
      h.fc.release();
      await settle();
    }
    assert.deepEqual(h.order, ['hold', 'high', 'mid', 'low']);
  });

  test('round-robin fairness: a flooding tenant does not starve a later one', async () => {
    const h = harness(config({ defaultBand: band({ fairness: new RoundRobinFairnessPolicy() }) }));
    h.send('hold', 'a');
    for (let i = 1; i <= 4; i++) h.send(`a${i}`, 'a');
    h.send('b1', 'b');
    h.send('b2', 'b');
    for (let i = 0; i < 6; i++) {
      h.fc.release();
      await settle();
    }
    assert.deepEqual(h.order, ['hold', 'a1', 'b1', 'a2', 'b2', 'a3', 'a4']);
  });

  test('global-strict fairness: arrival order across flows', async () => {
    const h = harness();
    h.send('hold', 'a');
    h.send('a1', 'a');
    h.send('a2', 'a');
    h.send('b1', 'b');
    for (let i = 0; i < 3; i++) {
      h.fc.release();
      await settle();
    }
    assert.deepEqual(h.order, ['hold', 'a1', 'a2', 'b1']);
  });

  test('TTL: a request waiting past defaultRequestTTL gets rejected-ttl-expired (429)', async () => {
    const h = harness(config({ defaultRequestTTLMs: 1000 }));
    h.send('hold');
    const t = h.send('late')!;
    h.clock.t += 1001;
    await settle();
    await assert.rejects(t.done, (e: FlowControlRejection) => e.reason === 'rejected-ttl-expired' && e.status === 429 && e.outcome === 'EvictedTTL');
    assert.equal(h.fc.length, 0);
  });

  test('no endpoints: waits noEndpointRequestTTL, then rejected-no-endpoints (503); endpoints in time dispatch it', async () => {
    const h = harness(config({ noEndpointRequestTTLMs: 500 }), []);
    const t = h.send('waits')!;
    assert.ok(t, 'an empty pool queues');
    h.clock.t += 400;
    await settle();
    h.setEndpoints(endpoints(1));
    await settle();
    assert.deepEqual(h.order, ['waits']);
    h.setEndpoints([]);
    const t2 = h.send('gone')!;
    h.clock.t += 501;
    await settle();
    await assert.rejects(t2.done, (e: FlowControlRejection) => e.reason === 'rejected-no-endpoints' && e.status === 503);
  });

  test('band limit: rejected-saturated (429) when the band is full; a pool without endpoints answers 503', () => {
    const h = harness(config({ defaultBand: band({ maxRequests: 1 }) }));
    h.send('hold');
    h.send('queued');
    assert.throws(() => h.send('over'), (e: FlowControlRejection) => e.reason === 'rejected-saturated' && e.status === 429 && e.code === 'request_queue_full');
    const empty = harness(config({ defaultBand: band({ maxRequests: 1 }) }), []);
    empty.send('queued');
    assert.throws(() => empty.send('over'), (e: FlowControlRejection) => e.reason === 'rejected-no-endpoints' && e.status === 503);
  });

  test('global limits: maxRequests and maxBytes over every band', () => {
    const h = harness(config({ maxRequests: 2 }));
    h.send('hold');
    h.send('q1', 'a', 0);
    h.send('q2', 'a', 5);
    assert.throws(() => h.send('over', 'a', 9), (e: FlowControlRejection) => e.reason === 'rejected-saturated');
    const b = harness(config({ maxBytes: 100 }));
    b.send('hold');
    b.send('q1', 'a', 0, 60);
    assert.throws(() => b.send('over', 'a', 0, 50), (e: FlowControlRejection) => e.reason === 'rejected-saturated');
  });

  test("a full queue's message names the limits that are set and the field that sets the full one", () => {
    const message = (h: ReturnType<typeof harness>, priority = 0): string => {
      try {
        h.send('over', 'a', priority, 50);
      } catch (e) {
        return (e as FlowControlRejection).message;
      }
      assert.fail('refused');
    };
    // Only maxRequests is set globally: no "of Infinity bytes".
    const g = harness(config({ maxRequests: 1 }));
    g.send('hold');
    g.send('q1', 'a', 0, 50);
    const global = message(g);
    assert.match(global, /\(global: 1 of 1 requests\)\. Retry later, or raise flowControl\.maxRequests \/ maxBytes of/);
    assert.doesNotMatch(global, /Infinity/);
    // A band's limit is raised in the band, not in the global fields.
    const b = harness(config({ bands: new Map([[5, band({ maxRequests: 1 })]]), defaultBand: band({ maxRequests: 1 }), defaultNegativeBand: band({ maxBytes: 60 }) }));
    b.send('hold');
    b.send('p5', 'a', 5, 50);
    b.send('p0', 'a', 0, 50);
    b.send('p-1', 'a', -1, 50);
    assert.match(message(b, 5), /\(priority band 5: 1 of 1 requests, 50 of 1000000000 bytes\)\. Retry later, or raise the maxRequests \/ maxBytes of flowControl\.priorityBands\[priority: 5\] of/);
    assert.match(message(b, 0), /raise the maxRequests \/ maxBytes of flowControl\.defaultPriorityBand of/);
    assert.match(message(b, -1), /\(priority band -1: 1 of 5000 requests, 50 of 60 bytes\)\. Retry later, or raise the maxRequests \/ maxBytes of flowControl\.defaultNegativePriorityBand of/);
  });

  test('a per-priority band keeps its own limit', () => {
    const h = harness(config({ bands: new Map([[5, band({ maxRequests: 1 })]]) }));
    h.send('hold');
    h.send('p5', 'a', 5);
    assert.throws(() => h.send('p5b', 'a', 5));
    assert.ok(h.send('p0', 'a', 0), 'the default band is not full');
  });

  test('reconfigure: new limits apply to a band with requests waiting', () => {
    const h = harness(config({ defaultBand: band({ maxRequests: 1 }) }));
    h.send('hold');
    h.send('q1');
    assert.throws(() => h.send('q2'));
    h.fc.reconfigure(config({ defaultBand: band({ maxRequests: 2 }) }));
    assert.ok(h.send('q2'));
    assert.equal(h.fc.length, 2);
  });

  test('cancel: a request whose client left leaves its queue at once', async () => {
    const h = harness();
    h.send('hold');
    const t = h.send('gone')!;
    h.send('next');
    h.fc.cancel(t);
    assert.equal(h.fc.length, 1);
    await assert.rejects(t.done, (e: FlowControlRejection) => e.reason === 'rejected-context-cancelled');
    h.fc.release();
    await settle();
    assert.deepEqual(h.order, ['hold', 'next']);
  });

  test('shutdown: waiting requests still dispatch, new ones that would wait get 503, rejectQueued empties the queues', async () => {
    const h = harness();
    h.send('hold');
    const t = h.send('waiting')!;
    h.fc.beginShutdown();
    assert.throws(() => h.send('new'), (e: FlowControlRejection) => e.reason === 'rejected-shutting-down' && e.status === 503);
    h.fc.rejectQueued();
    await assert.rejects(t.done, (e: FlowControlRejection) => e.reason === 'rejected-shutting-down');
    assert.equal(h.fc.length, 0);
  });
});
