/** Tally: what one request's outcome adds to the run's latency samples. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptOutcome } from './send-attempt.js';
import { Tally } from './tally.js';

function streamed(firstContentAt: number, endAt: number, outputTokens: number, gaps: number[] = []): AttemptOutcome {
  return { ok: true, aborted: false, error: '', errorMessage: '', servedBy: null, firstContentAt, gaps, outputTokens, inputTokens: 3, endAt };
}

test('TPOT as vLLM bench serve defines it: time after the first token over the tokens after it, per request', () => {
  const tally = new Tally();
  // Started at 0, first token at 40 ms, 11 tokens done at 140 ms: 100 ms for the 10 tokens after the first.
  tally.success(0, 1, 'pod', streamed(40, 140, 11, [10, 10, 80]));
  assert.deepEqual(tally.ttft, [40]);
  assert.deepEqual(tally.tpot, [10]);
  assert.deepEqual(tally.e2e, [140]);
  // ITL stays the gaps between chunks, whatever the tokens per chunk.
  assert.deepEqual(tally.itl, [10, 10, 80]);
  assert.equal(tally.inputTokens, 3, 'the usage prompt tokens, for the total token throughput');
});

test('no TPOT for a one-token answer nor for a whole (non-streamed) response', () => {
  const tally = new Tally();
  tally.success(0, 1, 'pod', streamed(30, 31, 1));
  tally.success(0, 1, 'pod', { ...streamed(0, 50, 7), firstContentAt: null });
  assert.deepEqual(tally.tpot, []);
  assert.equal(tally.ttft.length, 1);
  assert.equal(tally.e2e.length, 2);
});
