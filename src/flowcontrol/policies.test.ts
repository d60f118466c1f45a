/** Ordering and fairness policies, table-driven over queued requests. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EdfOrderingPolicy } from './edf-ordering-policy.js';
import { FcfsOrderingPolicy } from './fcfs-ordering-policy.js';
import { FlowQueue } from './flow-queue.js';
import { GlobalStrictFairnessPolicy } from './global-strict-fairness-policy.js';
import { PriorityBand } from './priority-band.js';
import { QueuedRequest } from './queued-request.js';
import { RoundRobinFairnessPolicy } from './round-robin-fairness-policy.js';
import { parseQuantity } from './quantity.js';

const req = (seq: number, ttlMs: number, flow = 'f', at = 1000) => new QueuedRequest(flow, 0, 1, at, ttlMs, seq);

describe('ordering policies', () => {
  test('fcfs: arrival order whatever the deadlines', () => {
    const q = new FlowQueue('f', 0, new FcfsOrderingPolicy());
    for (const r of [req(0, 9000), req(1, 100), req(2, 5000)]) q.add(r);
    assert.deepEqual([...q.queued()].map((r) => r.seq), [0, 1, 2]);
  });

  test('edf: earliest deadline first; no TTL goes last; equal deadlines by arrival', () => {
    const q = new FlowQueue('f', 0, new EdfOrderingPolicy());
    for (const r of [req(0, 0), req(1, 9000), req(2, 100), req(3, 5000), req(4, 100)]) q.add(r);
    const out: number[] = [];
    for (let r = q.take(); r; r = q.take()) out.push(r.seq);
    assert.deepEqual(out, [2, 4, 3, 1, 0]);
  });

  test('a removed request is skipped and no longer counted', () => {
    const q = new FlowQueue('f', 0, new FcfsOrderingPolicy());
    const rs = [req(0, 0), req(1, 0), req(2, 0)];
    for (const r of rs) q.add(r);
    rs[0]!.state = 'dropped';
    q.removed(rs[0]!);
    assert.equal(q.length, 2);
    assert.equal(q.take()?.seq, 1);
  });
});

describe('fairness policies', () => {
  const fill = (band: PriorityBand, flows: string[]) => flows.forEach((f, i) => band.add(req(i, 0, f)));
  const drain = (band: PriorityBand) => {
    const out: string[] = [];
    for (let r = band.take(); r; r = band.take()) out.push(`${r.fairnessId}${r.seq}`);
    return out;
  };
  const cases = [
    { name: 'global-strict: arrival order across flows', policy: new GlobalStrictFairnessPolicy(), flows: ['a', 'a', 'a', 'b', 'c'], want: ['a0', 'a1', 'a2', 'b3', 'c4'] },
    { name: 'round-robin: one each in turn', policy: new RoundRobinFairnessPolicy(), flows: ['a', 'a', 'a', 'b', 'c'], want: ['a0', 'b3', 'c4', 'a1', 'a2'] },
    { name: 'round-robin: a single flow is work-conserving', policy: new RoundRobinFairnessPolicy(), flows: ['a', 'a'], want: ['a0', 'a1'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const band = new PriorityBand(0, { maxRequests: 100, maxBytes: 1e6 }, c.policy, new FcfsOrderingPolicy());
      fill(band, c.flows);
      assert.deepEqual(drain(band), c.want);
      assert.equal(band.length, 0);
    });
  }

  test('round-robin keeps its turn when a flow empties and another joins', () => {
    const band = new PriorityBand(0, { maxRequests: 100, maxBytes: 1e6 }, new RoundRobinFairnessPolicy(), new FcfsOrderingPolicy());
    band.add(req(0, 0, 'a'));
    band.add(req(1, 0, 'b'));
    band.add(req(2, 0, 'b'));
    assert.equal(band.take()?.fairnessId, 'a');
    band.add(req(3, 0, 'c'));
    band.add(req(4, 0, 'a'));
    assert.deepEqual(drain(band), ['b1', 'c3', 'a4', 'b2']);
  });
});

describe('quantities', () => {
  const cases: [unknown, number | undefined][] = [[5000, 5000], ['1Gi', 2 ** 30], ['1G', 1e9], ['500M', 5e8], ['64Ki', 65536], ['x', undefined], [-1, undefined]];
  for (const [v, want] of cases) test(String(v), () => assert.equal(parseQuantity(v), want));
});
