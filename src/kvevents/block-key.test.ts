import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockKeyHasher, keyAt, lastKey } from './block-key.js';

// Reference values from llm-d's recipe run in Go (fxamacker/cbor canonical mode + hash/fnv, as
// token_processor.go does): tokens[i] = i*1000003 + 7, tokens[3] = 300000000, model "m".
const TOKENS = Array.from({ length: 32 }, (_, i) => (i === 3 ? 300_000_000 : i * 1_000_003 + 7));
const GOLDEN = [
  { seed: '', root: 11374735546233341228n, k0: 15250917053569190715n, k1: 4432753432002369681n, k2salted: 1477185673945698814n },
  { seed: '42', root: 13673417957312747559n, k0: 14970821557003163721n, k1: 9705552665288915826n, k2salted: 7552930772073309582n },
];

const big = (k: { hi: number; lo: number }): bigint => (BigInt(k.hi >>> 0) << 32n) | BigInt(k.lo >>> 0);

describe('BlockKeyHasher (llm-d cbor-fnv keys)', () => {
  for (const g of GOLDEN) {
    it(`matches llm-d's keys with hashSeed ${JSON.stringify(g.seed)}`, () => {
      const h = new BlockKeyHasher({ blockSize: 16, hashSeed: g.seed });
      assert.equal(big(h.root('m')), g.root);
      const k = h.keys(TOKENS, 'm');
      assert.equal(k.count, 2);
      assert.equal(keyAt(k, 0), g.k0);
      assert.equal(keyAt(k, 1), g.k1);
      // Chaining from the first block's key gives the second key: events split anywhere agree.
      const first = h.keys(TOKENS.slice(0, 16), 'm');
      assert.equal(keyAt(h.keys(TOKENS.slice(16), 'm', lastKey(first)), 0), g.k1);
      // Extra keys (multimodal hashes, cache salt) taint the block as a list of {"Hash": s} (Go: chained on k1).
      assert.equal(keyAt(h.keys(TOKENS.slice(16), 'm', lastKey(k), [['salt', 'img']]), 0), g.k2salted);
    });
  }

  it('drops a partial last block and keys nothing below one block', () => {
    const h = new BlockKeyHasher({ blockSize: 16, hashSeed: '' });
    assert.equal(h.keys(TOKENS.slice(0, 31), 'm').count, 1);
    assert.equal(h.keys(TOKENS.slice(0, 15), 'm').count, 0);
  });

  it('roots the chain in the model: another model or adapter shares no key', () => {
    const h = new BlockKeyHasher({ blockSize: 16, hashSeed: '' });
    assert.notEqual(keyAt(h.keys(TOKENS, 'm'), 0), keyAt(h.keys(TOKENS, 'lora-a'), 0));
  });

  it('keys the same tokens the same way whatever the block size chunks, within a block size', () => {
    const h8 = new BlockKeyHasher({ blockSize: 8, hashSeed: '' });
    assert.equal(h8.keys(TOKENS, 'm').count, 4);
    assert.throws(() => new BlockKeyHasher({ blockSize: 0, hashSeed: '' }), /blockSize/);
  });
});
