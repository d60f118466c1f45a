/** P/D's decode leg in the engine: a prompt whose KV was prefilled on another pod computes only its last token. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineHarness, prompt } from './engine-test-kit.js';

test('a remote-prefilled prompt skips its prefill: TTFT is one step of one token, not of the whole prompt', () => {
  const config = { itlMs: 10, prefillTimePerTokenMs: 0.5, ttftMs: 0, enablePrefixCaching: false };
  const local = engineHarness(config);
  const here = local.submit({ promptText: prompt(400, 'l'), outputTokens: 2 });
  local.clock.runUntilIdle();
  const remote = engineHarness(config);
  const pulled = remote.submit({ promptText: prompt(400, 'r'), outputTokens: 2, remotePrefilled: true });
  remote.clock.runUntilIdle();
  // Virtual time on a manual clock: the local prefill computes 400 tokens in its first step, the pulled one 1.
  assert.equal(here.times[0], 10 + 400 * 0.5);
  assert.equal(pulled.times[0], 10 + 1 * 0.5);
  assert.deepEqual(pulled.result, { finishReason: 'stop', promptTokens: 400, completionTokens: 2 });
});
