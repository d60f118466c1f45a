/** Tests for the engine: token order, max_tokens, FIFO admission, abort and close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineRequest, GenerationListener, GenerationResult } from './engine.js';
import { Engine } from './engine.js';
import { waitFor } from './test-kit.js';

function request(output: string[], maxTokens: number | null = null, lora: string | null = null): EngineRequest {
  return { lora, promptText: 'p', promptTokens: 1, output, maxTokens };
}

/** Records what a listener receives. */
function recorder(): GenerationListener & { tokens: string[]; reasons: Array<string | null>; result?: GenerationResult } {
  const r: GenerationListener & { tokens: string[]; reasons: Array<string | null>; result?: GenerationResult } = {
    tokens: [],
    reasons: [],
    onToken(text, _i, reason) {
      r.tokens.push(text);
      r.reasons.push(reason);
    },
    onFinish(result) {
      r.result = result;
    },
  };
  return r;
}

test('tokens arrive in order; max_tokens cuts the output and finishes with length', async () => {
  const engine = new Engine({ maxNumSeqs: 2, ttftMs: 1, itlMs: 1 });
  const cut = recorder();
  const whole = recorder();
  const empty = recorder();
  engine.submit(request(['a', ' b', ' c'], 2), cut);
  engine.submit(request(['a', ' b'], 2), whole);
  engine.submit(request([]), empty);
  await waitFor(() => cut.result !== undefined && whole.result !== undefined && empty.result !== undefined);
  assert.deepEqual(cut.tokens, ['a', ' b']);
  assert.deepEqual(cut.reasons, [null, 'length']);
  assert.deepEqual(cut.result, { finishReason: 'length', promptTokens: 1, completionTokens: 2 });
  // Reaching max_tokens exactly is "length" too, as in vLLM.
  assert.equal(whole.result?.finishReason, 'length');
  assert.deepEqual(empty.result, { finishReason: 'stop', promptTokens: 1, completionTokens: 0 });
  assert.equal(engine.submitted, 3);
  engine.close();
});

test('at most maxNumSeqs run; the rest wait and are admitted in FIFO order', async () => {
  const engine = new Engine({ maxNumSeqs: 1, ttftMs: 5, itlMs: 5 });
  const finished: number[] = [];
  for (const i of [0, 1, 2]) {
    const r = recorder();
    r.onFinish = () => finished.push(i);
    engine.submit(request(['x', ' y'], null, `lora-${i}`), r);
  }
  assert.equal(engine.running, 1);
  assert.equal(engine.waiting, 2);
  assert.deepEqual(engine.runningAdapters(), ['lora-0']);
  assert.deepEqual(engine.waitingAdapters(), ['lora-1', 'lora-2']);
  await waitFor(() => finished.length === 3);
  assert.deepEqual(finished, [0, 1, 2]);
  assert.equal(engine.running + engine.waiting, 0);
});

test('abort frees a running slot or a queue place, and the listener hears nothing more', async () => {
  const engine = new Engine({ maxNumSeqs: 1, ttftMs: 1, itlMs: 1000 });
  const running = recorder();
  const waiting = recorder();
  const next = recorder();
  const a = engine.submit(request(['a', ' b', ' c']), running);
  const b = engine.submit(request(['a']), waiting);
  engine.submit(request(['z']), next);
  await waitFor(() => running.tokens.length === 1);
  b.abort();
  assert.equal(engine.waiting, 1);
  a.abort();
  a.abort(); // idempotent
  await waitFor(() => next.result !== undefined);
  assert.deepEqual(running.tokens, ['a']);
  assert.equal(running.result, undefined);
  assert.deepEqual(waiting.tokens, []);
  assert.equal(engine.running + engine.waiting, 0);
});

test('close drops everything and clears timers; submit afterwards throws', async () => {
  const engine = new Engine({ maxNumSeqs: 1, ttftMs: 20, itlMs: 20 });
  const r1 = recorder();
  const r2 = recorder();
  engine.submit(request(['a', ' b']), r1);
  engine.submit(request(['a']), r2);
  engine.close();
  assert.equal(engine.running + engine.waiting, 0);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(r1.tokens, []);
  assert.deepEqual(r2.tokens, []);
  assert.throws(() => engine.submit(request(['a']), recorder()), /closed/);
});

test('a listener that throws loses its request, not the engine', async () => {
  const engine = new Engine({ maxNumSeqs: 1, ttftMs: 1, itlMs: 1 });
  const bad = recorder();
  bad.onToken = () => {
    throw new Error('boom');
  };
  const good = recorder();
  engine.submit(request(['a', ' b']), bad);
  engine.submit(request(['c']), good);
  await waitFor(() => good.result !== undefined);
  assert.deepEqual(good.tokens, ['c']);
  assert.equal(engine.running, 0);
});
