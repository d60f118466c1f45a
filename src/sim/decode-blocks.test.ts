/** Blocks filled while decoding are cached and reported as vLLM's block pool does: chained, with their ids, evicted once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineConfig } from './engine-config.js';
import type { KvStepListener } from './engine.js';
import { engineHarness, prompt } from './engine-test-kit.js';
import { blockHashes } from './prefix-hash.js';
import { Tokenizer } from './tokenizer.js';

interface Stored {
  readonly hashes: readonly bigint[];
  readonly parent: bigint | null;
  readonly tokenIds: readonly number[];
  readonly lora: string | null;
}

/** An engine whose KV events are recorded in order. */
function recording(config: Partial<EngineConfig> = {}): { h: ReturnType<typeof engineHarness>; stored: Stored[]; removed: bigint[] } {
  const stored: Stored[] = [];
  const removed: bigint[] = [];
  const listener: KvStepListener = {
    stored: (hashes, parent, tokenIds, lora) => stored.push({ hashes: [...hashes], parent, tokenIds: [...tokenIds], lora }),
    removed: (hash) => removed.push(hash),
    cleared: () => {},
    endStep: () => {},
  };
  return { h: engineHarness({ blockSize: 16, ...config }, 1, listener), stored, removed };
}

/** `n` output words of 6 characters: more text than positions, so every decode position has a piece of text. */
const words = (n: number, tag = 'w'): string[] => Array.from({ length: n }, (_, i) => ` ${tag}${String(i).padStart(4, '0')}`);

const allHashes = (stored: readonly Stored[]): bigint[] => stored.flatMap((s) => s.hashes);

test('decode blocks are stored as they fill, chained on the last prompt block, holding the ids of prompt then reply', () => {
  const { h, stored } = recording();
  const text = 'q'.repeat(150); // 38 tokens, the last one 2 characters: 2 full prompt blocks
  const output = words(40);
  const r = h.submit({ promptText: text, output, lora: 'sql' });
  h.clock.runUntilIdle();
  assert.equal(r.tokens.length, 40);
  // Blocks fill at 48 (8 output tokens) and 64 (24); the one at 80 is the last token's, which is never computed.
  assert.equal(stored.length, 3, 'the prompt\'s run, then one event per decode block');
  const ids = new Tokenizer().encode(text + output.join(''));
  const expected = blockHashes(ids, 16, 4, 'sql');
  assert.deepEqual(allHashes(stored), expected, 'one chain, the documented recipe, the adapter in every block');
  assert.deepEqual(stored.map((s) => s.parent), [null, expected[1], expected[2]]);
  assert.deepEqual(stored[1]!.tokenIds, ids.slice(32, 48), 'the prompt\'s partial last piece is completed by the reply, as the tokenizer reads the two');
  assert.deepEqual(stored[2]!.tokenIds, ids.slice(48, 64));
  assert.ok(stored.every((s) => s.lora === 'sql' && s.tokenIds.length === s.hashes.length * 16));
});

test('a continuation whose prompt is the earlier prompt plus its reply hits the decode blocks', () => {
  const { h, stored } = recording();
  const text = prompt(40, 'c');
  const first = h.submit({ promptText: text, output: words(40) });
  h.clock.runUntilIdle();
  const reply = first.tokens.join('');
  const hitsBefore = h.observed.hits;
  h.submit({ promptText: text + reply + prompt(20, 'u'), output: words(2) });
  h.clock.runUntilIdle();
  // 40 prompt + 40 output tokens: blocks 0-3 cached (2 prompt, 2 decode), block 4 held the last, never computed, token.
  assert.equal(h.observed.hits - hitsBefore, 4 * 16);
  const continuation = stored.at(-1)!;
  assert.equal(continuation.parent, allHashes(stored)[3], 'the continuation stores its new blocks after the cached decode blocks');
});

test('a request that ends before a decode block fills stores none; max_tokens under a block stores the prompt only', () => {
  for (const [outputTokens, maxTokens] of [[10, null], [16, null], [100, 15]] as const) {
    const { h, stored } = recording();
    // 32 prompt tokens: 2 blocks. 10 tokens leave block 2 partial; the 16th token fills it but is the last, never computed.
    h.submit({ promptText: prompt(32), output: words(outputTokens), maxTokens });
    h.clock.runUntilIdle();
    assert.equal(h.observed.finished, 1);
    assert.deepEqual(stored.map((s) => [s.hashes.length, s.parent]), [[2, null]], `${outputTokens} tokens, max_tokens ${maxTokens}`);
  }
});

test('without prefix caching nothing is hashed or stored, decode blocks included', () => {
  const { h, stored } = recording({ enablePrefixCaching: false });
  h.submit({ promptText: prompt(40), output: words(60) });
  h.clock.runUntilIdle();
  assert.equal(h.observed.finished, 1);
  assert.deepEqual(stored, []);
});

test('evicted decode blocks are removed exactly once; two sequences computing the same block store it once', () => {
  // 12 blocks: two identical requests side by side (5 blocks each at the end), then distinct ones evict them.
  const { h, stored, removed } = recording({ kvCacheSize: 12, maxNumSeqs: 2 });
  const same = { promptText: prompt(32, 's'), output: words(40) };
  h.submit(same);
  h.submit(same);
  h.clock.runUntilIdle();
  const decode = allHashes(stored).slice(2);
  assert.equal(decode.length, 2, 'blocks 2 and 3 of the shared sequence, stored once although both computed them');
  assert.equal(new Set(allHashes(stored)).size, allHashes(stored).length, 'every hash stored once');
  for (let i = 0; i < 4; i++) {
    h.submit({ promptText: prompt(32, `e${i}`), output: words(40, 'x') });
    h.clock.runUntilIdle();
  }
  assert.equal(h.observed.finished, 6);
  for (const d of decode) assert.equal(removed.filter((x) => x === d).length, 1, 'a decode block is removed once when its block is reused');
  const everStored = allHashes(stored);
  for (const x of removed) assert.equal(everStored.filter((s) => s === x).length, removed.filter((y) => y === x).length, `${x}: one removed per stored`);
});

test('preemption: both sequences store every block they fill, decode blocks included, and remove only stored ones', () => {
  // 8 blocks; each request needs ceil((16 + 60) / 16) = 5 at the end, so one is preempted (test as in engine-cache).
  const { h, stored, removed } = recording({ kvCacheSize: 8, maxNumSeqs: 2, itlMs: 10 });
  const older = h.submit({ promptText: prompt(16, 'o'), output: words(60, 'o') });
  const newer = h.submit({ promptText: prompt(16, 'n'), output: words(60, 'n') });
  h.clock.runUntilIdle();
  assert.ok(h.observed.preemptions >= 1);
  assert.deepEqual([older.tokens.length, newer.tokens.length], [60, 60]);
  const hashes = allHashes(stored);
  for (const x of removed) assert.ok(hashes.includes(x), 'every removed block was stored');
  // Each request fills blocks at 32, 48 and 64 tokens (76 is its last): 1 prompt + 3 decode blocks, whatever the order.
  for (const t of ['o', 'n']) {
    const ids = new Tokenizer().encode(prompt(16, t) + words(60, t).join(''));
    for (const x of blockHashes(ids, 16, 4, null)) assert.ok(hashes.includes(x), `${t}'s block ${x} was stored`);
  }
});
