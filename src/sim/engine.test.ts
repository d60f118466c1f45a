/** Engine basics on a manual clock: token order, max_tokens, FCFS admission, abort, close, queue limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineHarness } from './engine-test-kit.js';
import { QueueFullError } from './waiting-queue.js';

test('tokens arrive in order; max_tokens cuts the output and finishes with length', () => {
  const { clock, engine, submit } = engineHarness({ maxNumSeqs: 3 });
  const cut = submit({ output: ['a', ' b', ' c'], maxTokens: 2 });
  const whole = submit({ output: ['a', ' b'], maxTokens: 2 });
  const empty = submit({ output: [] });
  clock.runUntilIdle();
  assert.deepEqual(cut.tokens, ['a', ' b']);
  assert.deepEqual(cut.reasons, [null, 'length']);
  assert.deepEqual(cut.result, { finishReason: 'length', promptTokens: 1, completionTokens: 2 });
  // Reaching max_tokens exactly is "length" too, as in vLLM.
  assert.equal(whole.result?.finishReason, 'length');
  assert.deepEqual(empty.result, { finishReason: 'stop', promptTokens: 1, completionTokens: 0 });
  assert.equal(engine.submitted, 3);
  assert.equal(clock.pending, 0, 'no timer left once the work is done');
});

test('a lone request: TTFT = one step (overhead + prefill) + ttftMs, then one token per itl', () => {
  const { clock, submit, observed } = engineHarness({ itlMs: 10, prefillTimePerTokenMs: 0.5, ttftMs: 7 });
  const r = submit({ promptText: 'x'.repeat(80), outputTokens: 4 }); // 20 prompt tokens
  clock.runUntilIdle();
  assert.deepEqual(r.times, [10 + 20 * 0.5 + 7, 37, 47, 57]);
  assert.deepEqual(observed.ttfts, [0.027]);
  assert.equal(r.finishedAt, 57);
});

test('at most maxNumSeqs run; the rest wait and are admitted in FCFS order', () => {
  const { clock, engine, submit } = engineHarness({ maxNumSeqs: 1 });
  const runs = [0, 1, 2].map(() => submit({ outputTokens: 2 }));
  assert.equal(engine.running, 1);
  assert.equal(engine.waiting, 2);
  clock.runUntilIdle();
  const finished = runs.map((r) => r.finishedAt!);
  assert.deepEqual([...finished].sort((a, b) => a - b), finished);
  assert.equal(engine.running + engine.waiting, 0);
});

test('abort frees a running slot or a queue place, and the listener hears nothing more', () => {
  const { clock, engine, submit } = engineHarness({ maxNumSeqs: 1, itlMs: 10, prefillTimePerTokenMs: 0 });
  const running = submit({ output: ['a', ' b', ' c'] });
  const waiting = submit({ output: ['a'] });
  const next = submit({ output: ['z'] });
  clock.advance(10);
  assert.deepEqual(running.tokens, ['a']);
  waiting.generation!.abort();
  assert.equal(engine.waiting, 1);
  running.generation!.abort();
  running.generation!.abort(); // idempotent
  clock.runUntilIdle();
  assert.deepEqual(running.tokens, ['a']);
  assert.equal(running.result, undefined);
  assert.deepEqual(waiting.tokens, []);
  assert.deepEqual(next.tokens, ['z']);
  assert.equal(engine.running + engine.waiting + engine.kvCacheUsage, 0);
});

test('close drops everything and clears the timer; submit afterwards throws', () => {
  const { clock, engine, submit } = engineHarness({ maxNumSeqs: 1 });
  const r1 = submit({ outputTokens: 2 });
  const r2 = submit({ outputTokens: 1 });
  engine.close();
  assert.equal(engine.running + engine.waiting, 0);
  assert.equal(clock.pending, 0);
  clock.advance(1000);
  assert.deepEqual([r1.tokens, r2.tokens], [[], []]);
  assert.throws(() => submit({}), /closed/);
});

test('a listener that throws loses its request, not the engine', () => {
  const { clock, engine, submit } = engineHarness({ maxNumSeqs: 1 });
  const bad = submit({ outputTokens: 2 });
  bad.onToken = () => {
    throw new Error('boom');
  };
  const good = submit({ output: ['c'] });
  clock.runUntilIdle();
  assert.deepEqual(good.tokens, ['c']);
  assert.equal(bad.result, undefined);
  assert.equal(engine.running, 0);
});

test('a full waiting queue throws QueueFullError; requests about to take free slots do not count', () => {
  const { engine, submit } = engineHarness({ maxNumSeqs: 2, maxWaitingQueueLength: 1 });
  submit({}); // starts a step at once: running 1
  submit({}); // waits for the step to end, but a slot is free for it
  assert.equal(engine.queueFull, false);
  submit({}); // the one request allowed to wait beyond the batch
  assert.equal(engine.queueFull, true);
  assert.throws(() => submit({}), QueueFullError);
  assert.equal(engine.submitted, 3);
});
