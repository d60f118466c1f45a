/** Continuous batching on a manual clock: queueing, ITL under load, chunked prefill, LoRA slots, seeded jitter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineHarness, gaps, prompt } from './engine-test-kit.js';

test('the 9th request waits when maxNumSeqs is 8; its queue time is the longest, and TTFT includes it', () => {
  const { clock, engine, submit, observed } = engineHarness({ maxNumSeqs: 8, itlMs: 10 });
  const runs = Array.from({ length: 9 }, () => submit({ outputTokens: 5 }));
  clock.advance(11); // the first step (one request) ended; the next took the other seven it had room for
  assert.equal(engine.running, 8);
  assert.equal(engine.waiting, 1);
  clock.runUntilIdle();
  const queue = observed.scheduled.map((s) => s.queueSeconds);
  assert.equal(queue.length, 9);
  const ninth = queue[8]!;
  assert.ok(queue.slice(0, 8).every((q) => q < ninth), `queue times ${queue.join(', ')}`);
  assert.ok(ninth > 0);
  const ttft = (i: number): number => runs[i]!.times[0]!;
  assert.ok(ttft(8) > ttft(7) + 4 * 10, 'the 9th starts only when a running request has finished');
  assert.equal(observed.ttfts.length, 9);
});

test('ITL grows with the batch when timeFactorUnderLoad > 1: a full batch decodes factor times slower', () => {
  const config = { maxNumSeqs: 8, itlMs: 10, timeFactorUnderLoad: 3, prefillTimePerTokenMs: 0 };
  const alone = engineHarness(config);
  const one = alone.submit({ outputTokens: 6 });
  alone.clock.runUntilIdle();

  const full = engineHarness(config);
  full.submit({ outputTokens: 6 }); // occupies the first step alone, so the others share every later step
  const batch = Array.from({ length: 7 }, () => full.submit({ outputTokens: 6 }));
  full.clock.runUntilIdle();

  const itlAlone = gaps(one.times);
  const itlFull = gaps(batch[3]!.times);
  assert.deepEqual(new Set(itlAlone), new Set([10]));
  // With all 8 in the step, loadFactor = 1 + (3 - 1) * 7 / 7 = 3.
  assert.ok(itlFull.slice(0, 3).every((g) => Math.abs(g / itlAlone[0]! - 3) < 1e-9), `ITLs ${itlFull.join(', ')}`);
});

test('chunked prefill: a long prompt is split across steps and slows the decodes that share them', () => {
  const { clock, submit } = engineHarness({ maxNumSeqs: 4, itlMs: 10, prefillTimePerTokenMs: 0.1, maxNumBatchedTokens: 512 });
  const decoding = submit({ outputTokens: 12 });
  clock.advance(20); // decoding alone: 10 ms steps (plus 0.1 for its one prompt token)
  const long = submit({ promptText: prompt(2000, 'L'), outputTokens: 2 });
  clock.runUntilIdle();
  const g = gaps(decoding.times);
  assert.ok(g[0]! < 11, `alone: ${g[0]}`);
  // 2000 prompt tokens in chunks of 511 (the decode takes 1 of the 512): 4 steps of ~61 ms instead of 10 ms.
  const slow = g.filter((x) => x > 50);
  assert.equal(slow.length, 4, `ITLs ${g.map((x) => x.toFixed(1)).join(', ')}`);
  assert.ok(long.times[0]! - decoding.times[1]! > 4 * 50, 'the long prompt took four steps to prefill');
});

test('maxLoras 1: a second adapter waits (skipped, not blocking) until the first one leaves the batch', () => {
  const { clock, engine, submit } = engineHarness({ maxNumSeqs: 4, maxLoras: 1, loraLoadTimeMs: 100, prefillTimePerTokenMs: 0 });
  const a1 = submit({ lora: 'a', outputTokens: 3 });
  clock.advance(1);
  const b = submit({ lora: 'b', outputTokens: 3 });
  const a2 = submit({ lora: 'a', outputTokens: 3 });
  const base = submit({ outputTokens: 3 });
  clock.advance(110); // a's load step ends: the next step admits a2 and the base request, not b
  assert.deepEqual(engine.runningAdapters(), ['a']);
  assert.deepEqual(engine.waitingAdapters(), ['b']);
  assert.equal(engine.running, 3);
  clock.runUntilIdle();
  assert.equal(a1.times[0], 110, 'the first step loaded adapter a (100 ms) besides its 10 ms');
  assert.ok(b.times[0]! > Math.max(a1.finishedAt!, a2.finishedAt!), 'b ran only after every request for a left');
  assert.ok(base.finishedAt! < b.times[0]!, 'base-model requests need no adapter slot');
  assert.ok(gaps([a2.finishedAt!, b.times[0]!])[0]! >= 100, 'loading b cost another 100 ms');
});

test('same seed, same token timings with jitter; another seed, other timings', () => {
  const run = (seed: number): number[] => {
    const h = engineHarness({ maxNumSeqs: 4, itlMs: 10, itlStdDevMs: 3 }, seed);
    const rs = [0, 1, 2].map(() => h.submit({ outputTokens: 8 }));
    h.clock.runUntilIdle();
    return rs.flatMap((r) => r.times);
  };
  const a = run(42);
  assert.deepEqual(run(42), a);
  assert.notDeepEqual(run(43), a);
  const g = gaps(a.slice(0, 8));
  assert.ok(new Set(g.map((x) => x.toFixed(6))).size > 1, 'jitter varies the steps');
  assert.ok(g.every((x) => x >= 3 && x <= 17.1), `steps stay within 70% of itl: ${g.join(', ')}`);
});
