/** prefix-cache-scorer: leading blocks held / blocks hashed; PreRequest records the pick; parameters by llm-d's names. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import type { SchedulingContext } from '../framework/plugin.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { PrefixCacheScorer, prefixCycleStateKey, type PrefixCycleState } from './prefix-cache-scorer.js';
import { registerBuiltins } from './register-builtins.js';

const [a, b, c] = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => endpoint(ip).metrics().build()) as [Endpoint, Endpoint, Endpoint];
const BLOCK = 64; // 16 tokens x 4 characters
const text = (tag: string, blocks: number) => tag.repeat(BLOCK).slice(0, BLOCK) + 'x'.repeat(BLOCK * (blocks - 1));

/** Picks `ep` for `prompt` through the scorer's hooks, as the scheduler would. */
function serve(s: PrefixCacheScorer, prompt: string, ep: Endpoint, model = 'llama'): void {
  const ctx = context(request({ prompt, model }));
  s.score(ctx, [a, b, c]);
  s.preRequest(ctx, ep);
  s.flush();
}

function scores(s: PrefixCacheScorer, prompt: string, model = 'llama', eps: Endpoint[] = [a, b, c]): number[] {
  return Array.from(s.score(context(request({ prompt, model })), eps));
}

describe('prefix-cache-scorer', () => {
  test('scores the share of leading blocks each endpoint is believed to hold', () => {
    const s = new PrefixCacheScorer();
    serve(s, text('A', 4), a);
    serve(s, text('A', 2) + 'y'.repeat(2 * BLOCK), b);
    assert.deepEqual(scores(s, text('A', 4)), [1, 0.5, 0]);
    // 8 blocks asked, a holds the first 4.
    assert.deepEqual(scores(s, text('A', 4) + 'z'.repeat(4 * BLOCK)), [0.5, 0.25, 0]);
  });

  const cold: { name: string; prompt: string; model?: string }[] = [
    { name: 'another model never matches', prompt: text('A', 4), model: 'gemma' },
    { name: 'a prompt shorter than a block', prompt: 'A'.repeat(BLOCK - 1) },
    { name: 'no prompt', prompt: '' },
  ];
  for (const c0 of cold) {
    test(`${c0.name}: all 0`, () => {
      const s = new PrefixCacheScorer();
      serve(s, text('A', 4), a);
      assert.deepEqual(scores(s, c0.prompt, c0.model), [0, 0, 0]);
    });
  }

  test('hashes once per request: PreRequest reuses the cycle state, and a failover cycle too', () => {
    const s = new PrefixCacheScorer();
    const ctx: SchedulingContext = context(request({ prompt: text('A', 3) }));
    s.score(ctx, [a, b]);
    const state = ctx.state.read<PrefixCycleState>(prefixCycleStateKey(s.name));
    s.score(ctx, [b]);
    s.preRequest(ctx, b);
    assert.equal(ctx.state.read<PrefixCycleState>(prefixCycleStateKey(s.name)), state);
    assert.equal(state?.hashes.count, 3);
  });

  test('the hit flag tells whether any candidate holds the first block (no-hit-lru reads it)', () => {
    const s = new PrefixCacheScorer();
    serve(s, text('A', 2), a);
    for (const [eps, hit] of [[[a, b], true], [[b, c], false]] as const) {
      const ctx = context(request({ prompt: text('A', 2) }));
      s.score(ctx, eps);
      assert.equal(ctx.state.read<PrefixCycleState>(prefixCycleStateKey(s.name))?.hit, hit);
    }
  });

  test('endpoints not among the candidates are not scored; order of candidates does not matter', () => {
    const s = new PrefixCacheScorer();
    serve(s, text('A', 2), c);
    assert.deepEqual(scores(s, text('A', 2), 'llama', [c, a]), [1, 0]);
    assert.deepEqual(scores(s, text('A', 2), 'llama', [a, b]), [0, 0]);
  });

  test('autoTune takes the block size and capacity from vLLM metrics', () => {
    const big = endpoint('10.0.0.9').metrics({ blockSize: 32, numGpuBlocks: 2 }).build();
    const s = new PrefixCacheScorer();
    const ctx = context(request({ prompt: 'q'.repeat(32 * 4 * 3) }));
    s.score(ctx, [big]);
    assert.equal(ctx.state.read<PrefixCycleState>(prefixCycleStateKey(s.name))?.blockBytes, 128);
    s.preRequest(ctx, big);
    s.flush();
    assert.equal(s.index.held(big.address), 2);
    const fixed = new PrefixCacheScorer('p', { autoTune: false });
    const ctx2 = context(request({ prompt: 'q'.repeat(32 * 4 * 3) }));
    fixed.score(ctx2, [big]);
    assert.equal(ctx2.state.read<PrefixCycleState>(prefixCycleStateKey('p'))?.blockBytes, 64);
  });

  test('updates wait for the event loop unless too many are pending', async () => {
    const s = new PrefixCacheScorer();
    const ctx = context(request({ prompt: text('A', 2) }));
    s.score(ctx, [a]);
    s.preRequest(ctx, a);
    assert.equal(s.index.held(a.address), 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.index.held(a.address), 2);
  });

  describe('parameters', () => {
    const cases: { name: string; params: Record<string, unknown>; want?: Partial<PrefixCacheScorer['params']>; error?: RegExp; warning?: RegExp }[] = [
      { name: 'defaults', params: {}, want: { autoTune: true, blockBytes: 64, maxPrefixBlocksToMatch: 256, lruCapacityPerServer: 31250 } },
      { name: 'blockSizeTokens is tokens x 4 bytes', params: { blockSizeTokens: 32, autoTune: false }, want: { blockBytes: 128, autoTune: false } },
      { name: 'legacy blockSize counts characters, with a warning', params: { blockSize: 5 }, want: { blockBytes: 5 }, warning: /parameters\.blockSize is deprecated/ },
      { name: 'oldest name hashBlockSize too', params: { hashBlockSize: 64 }, want: { blockBytes: 64 }, warning: /hashBlockSize is deprecated/ },
      { name: 'blockSizeTokens wins over blockSize', params: { blockSizeTokens: 16, blockSize: 5 }, want: { blockBytes: 64 }, warning: /blockSize is ignored/ },
      { name: 'maxPrefixTokensToMatch', params: { maxPrefixTokensToMatch: 1024 }, want: { maxPrefixTokensToMatch: 1024 } },
      { name: 'bad block size', params: { blockSizeTokens: 'x' }, error: /plugins\[0\] \(prefix-cache-scorer\): parameters\.blockSizeTokens: must be a positive integer, got "x"/ },
      { name: 'unknown parameter', params: { lruCapacity: 3 }, error: /parameters\.lruCapacity: unknown parameter; known parameters: autoTune, blockSize, blockSizeTokens, hashBlockSize, lruCapacityPerServer, matchLengthScaleTokens, matchLengthWeight, maxPrefixBlocksToMatch, maxPrefixTokensToMatch, prefixMatchInfoProducerName/ },
    ];
    for (const c0 of cases) {
      test(c0.name, () => {
        const warnings: string[] = [];
        const create = () => registerBuiltins().create('prefix-cache-scorer', 'prefix-cache-scorer', c0.params, { at: 'plugins[0]', warn: (w) => warnings.push(w) }) as PrefixCacheScorer;
        if (c0.error) return assert.throws(create, c0.error);
        const s = create();
        for (const [k, v] of Object.entries(c0.want ?? {})) assert.equal(s.params[k as keyof PrefixCacheScorer['params']], v, k);
        if (c0.warning) assert.match(warnings.join('\n'), c0.warning);
      });
    }
  });

  test('maxPrefixTokensToMatch caps in tokens', () => {
    const s = new PrefixCacheScorer('p', { maxPrefixTokensToMatch: 32 });
    const ctx = context(request({ prompt: 'x'.repeat(BLOCK * 10) }));
    s.score(ctx, [a]);
    assert.equal(ctx.state.read<PrefixCycleState>(prefixCycleStateKey('p'))?.hashes.count, 2);
  });
});
