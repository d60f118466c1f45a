/** The engine's KV cache on a manual clock: prefix hits, LRU eviction, preemption and recomputation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineHarness, prompt } from './engine-test-kit.js';

/** TTFT (ms from submit) of each prompt run one after another on one engine, and the hit tokens each added. */
function sequential(h: ReturnType<typeof engineHarness>, prompts: Array<{ text: string; lora?: string }>): Array<{ ttft: number; hits: number }> {
  return prompts.map(({ text, lora }) => {
    const hitsBefore = h.observed.hits;
    const start = h.clock.now();
    const r = h.submit({ promptText: text, outputTokens: 2, ...(lora !== undefined ? { lora } : {}) });
    h.clock.runUntilIdle();
    return { ttft: r.times[0]! - start, hits: h.observed.hits - hitsBefore };
  });
}

test('a repeated long prompt hits the prefix cache: lower TTFT, hits and queries counted in tokens', () => {
  const h = engineHarness({ itlMs: 10, prefillTimePerTokenMs: 0.1 });
  const long = prompt(1000);
  const [first, second, shared] = sequential(h, [{ text: long }, { text: long }, { text: long.slice(0, 2000) + prompt(500, 'x') }]);
  assert.equal(first!.hits, 0);
  // All full blocks but the last token's: floor(999 / 16) = 62 blocks.
  assert.equal(second!.hits, 62 * 16);
  assert.ok(second!.ttft < first!.ttft / 5, `TTFT ${first!.ttft} ms then ${second!.ttft} ms`);
  // A prompt sharing the first 500 tokens hits floor(500 / 16) = 31 blocks.
  assert.equal(shared!.hits, 31 * 16);
  assert.equal(h.observed.queried, 1000 + 1000 + 1000);
});

test('cached blocks belong to a model or adapter: the same text on another adapter misses', () => {
  const h = engineHarness({ maxLoras: 2 });
  const text = prompt(200);
  const runs = sequential(h, [{ text, lora: 'a' }, { text, lora: 'b' }, { text, lora: 'a' }, { text }]);
  assert.deepEqual(runs.map((r) => r.hits), [0, 0, 192, 0]);
});

test('without prefix caching every prompt is prefilled in full', () => {
  const h = engineHarness({ enablePrefixCaching: false, prefillTimePerTokenMs: 0.1 });
  const runs = sequential(h, [{ text: prompt(1000) }, { text: prompt(1000) }]);
  assert.equal(runs[1]!.ttft, runs[0]!.ttft);
  assert.equal(h.observed.queried + h.observed.hits, 0);
});

test('LRU: free cached blocks are evicted oldest-freed first, so a prompt hits until newer prompts take its blocks', () => {
  // 16 blocks of 16 tokens; each 128-token prompt needs 8.
  const config = { kvCacheSize: 16, blockSize: 16 };
  const [a, b, c] = [prompt(128, 'a'), prompt(128, 'b'), prompt(128, 'c')];
  const kept = sequential(engineHarness(config), [{ text: a }, { text: b }, { text: a }]);
  assert.ok(kept[2]!.hits > 0, 'b used the never-used blocks; a stayed cached');
  const evicted = sequential(engineHarness(config), [{ text: a }, { text: b }, { text: c }, { text: a }]);
  assert.equal(evicted[3]!.hits, 0, 'c reused the least recently freed blocks: a\'s');
});

test('preemption: when running sequences outgrow the cache, the newest goes back to waiting and recomputes later', () => {
  // 8 blocks; each request needs ceil((16 + 60) / 16) = 5 at the end, so both cannot finish side by side.
  const h = engineHarness({ kvCacheSize: 8, blockSize: 16, maxNumSeqs: 2, itlMs: 10 });
  const older = h.submit({ promptText: prompt(16, 'o'), outputTokens: 60 });
  const newer = h.submit({ promptText: prompt(16, 'n'), outputTokens: 60 });
  h.clock.runUntilIdle();
  assert.ok(h.observed.preemptions >= 1, 'at least one preemption');
  assert.equal(older.tokens.length, 60);
  assert.equal(newer.tokens.length, 60, 'the preempted request still delivers every token, none twice');
  assert.deepEqual(newer.tokens, older.tokens);
  assert.ok(older.finishedAt! < newer.finishedAt!, 'the older request kept running');
  const longestGap = Math.max(...newer.times.slice(1).map((t, i) => t - newer.times[i]!));
  assert.ok(longestGap > 10 * 10, `the newer one paused while preempted (longest gap ${longestGap} ms)`);
  assert.equal(h.engine.kvCacheUsage, 0);
  assert.equal(h.clock.pending, 0);
});

test('kv cache usage counts blocks held by running sequences', () => {
  const h = engineHarness({ kvCacheSize: 100, blockSize: 16 });
  h.submit({ promptText: prompt(160), outputTokens: 50 });
  assert.equal(h.engine.kvCacheUsage, 0.1); // 10 blocks pinned for the prompt's prefill
  h.clock.runUntilIdle();
  assert.equal(h.engine.kvCacheUsage, 0);
});

test('KV events: blocks are reported once the step that computed them ends, one batch per step; reset refuses while requests run', () => {
  const batches: string[][] = [];
  let batch: string[] = [];
  const h = engineHarness({ kvCacheSize: 16, blockSize: 16, maxNumBatchedTokens: 32 }, 1, {
    stored: (hashes, parent) => batch.push(`stored ${hashes.length} parent ${parent === null ? 'null' : 'set'}`),
    removed: () => batch.push('removed'),
    cleared: () => batch.push('cleared'),
    endStep: () => {
      if (batch.length > 0) batches.push(batch);
      batch = [];
    },
  });
  h.submit({ promptText: prompt(64, 'a'), outputTokens: 20 }); // 4 blocks, prefilled 2 per step
  assert.deepEqual(batches, [], 'nothing is computed until a step ends');
  for (let i = 0; i < 100 && batches.length < 2; i++) h.clock.advance(1);
  assert.deepEqual(batches, [['stored 2 parent null'], ['stored 2 parent set']]);
  assert.equal(h.engine.resetPrefixCache(), false, 'the running request holds blocks');
  assert.equal(h.engine.resetPrefixCache(true), true, 'preempted first');
  assert.deepEqual(batches.at(-1), ['cleared']);
  h.clock.runUntilIdle();
  assert.equal(h.observed.finished, 1, 'the preempted request recomputed and finished');
  assert.equal(h.observed.preemptions, 1);
  assert.equal(h.engine.resetPrefixCache(), true);
});
