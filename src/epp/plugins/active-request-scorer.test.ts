/** active-request-scorer: from the gateway's in-flight counts; idle -> 1, else (max - n) / max x maxBusyScore. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, endpointsWith } from '../framework/test-fixtures.js';
import { ActiveRequestScorer } from './active-request-scorer.js';
import { registerBuiltins } from './register-builtins.js';

describe('active-request-scorer', () => {
  const cases: { name: string; inFlight: number[]; idle?: number; maxBusy?: number; want: number[] }[] = [
    { name: 'fewer in flight scores higher', inFlight: [0, 2, 4], want: [1, 0.5, 0] },
    { name: 'all idle', inFlight: [0, 0], want: [1, 1] },
    { name: 'all equally busy: none preferred', inFlight: [3, 3], want: [0, 0] },
    { name: 'idleThreshold counts light load as idle', inFlight: [1, 2, 4], idle: 1, want: [1, 0.5, 0] },
    { name: 'maxBusyScore leaves a gap below idle', inFlight: [0, 2, 4], maxBusy: 0.5, want: [1, 0.25, 0] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = endpointsWith(c.inFlight, (b, n) => b.inFlight(n));
      assert.deepEqual(Array.from(new ActiveRequestScorer('a', c.idle, c.maxBusy).score(context(), eps)), c.want);
    });
  }
  test('parameters by llm-d names; requestTimeout accepted with a warning', () => {
    const warnings: string[] = [];
    const s = registerBuiltins().create('active-request-scorer', 'a', { idleThreshold: 2, maxBusyScore: 0.5, requestTimeout: '2m' }, { warn: (w) => warnings.push(w) }) as ActiveRequestScorer;
    assert.deepEqual([s.idleThreshold, s.maxBusyScore], [2, 0.5]);
    assert.match(warnings[0] ?? '', /parameters\.requestTimeout is ignored/);
    assert.throws(() => registerBuiltins().create('active-request-scorer', 'a', { maxBusyScore: 2 }), /maxBusyScore: must be at most 1/);
  });
  test("current llm-d's inFlightLoadProducerName loads, ignored with a warning", () => {
    const warnings: string[] = [];
    registerBuiltins().create('active-request-scorer', 'a', { inFlightLoadProducerName: 'inflight-load-producer' }, { warn: (w) => warnings.push(w) });
    assert.deepEqual(warnings, ["plugin \"a\" (active-request-scorer): parameters.inFlightLoadProducerName is ignored: the gateway's own in-flight counts are used; there are no in-flight load producer plugins here"]);
  });
});

test("llm-d's inflight-load-producer, which its in-flight configs declare, loads with a note and does nothing", () => {
  const warnings: string[] = [];
  const p = registerBuiltins().create('inflight-load-producer', 'inflight-load-producer', { addEstimatedOutputTokens: true }, { warn: (w) => warnings.push(w) });
  assert.equal(p.type, 'inflight-load-producer');
  assert.match(warnings.join('\n'), /has nothing to do here: the gateway counts each endpoint's requests in flight itself.*; its parameters are ignored/);
});
