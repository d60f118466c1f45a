/** TokenizedPrompt: block keys computed once, and reused from an earlier prompt for the blocks both begin with. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockKeyHasher } from '../../kvevents/block-key.js';
import { TokenizedPrompt } from './tokenized-prompt.js';

const hasher = new BlockKeyHasher({ blockSize: 4, hashSeed: '' });
const ids = (n: number, from = 1) => Uint32Array.from({ length: n }, (_, i) => from + i);

/** `a` with its tokens from `at` on replaced. */
function divergeAt(a: Uint32Array, at: number, length = a.length): Uint32Array {
  const out = new Uint32Array(length);
  out.set(a.subarray(0, at));
  for (let i = at; i < length; i++) out[i] = 1000 + i;
  return out;
}

const fresh = (tokens: Uint32Array, salt = '') => [...new TokenizedPrompt(tokens, salt).keys(hasher, 'm').keys];

test('a prompt made after another has exactly the keys it would have alone, wherever they part', () => {
  const earlier = new TokenizedPrompt(ids(40));
  earlier.keys(hasher, 'm');
  for (const [at, length] of [[40, 40], [17, 40], [16, 40], [3, 40], [0, 40], [22, 30], [40, 55]] as const) {
    const tokens = divergeAt(ids(40), at, length);
    assert.deepEqual([...new TokenizedPrompt(tokens, '', earlier).keys(hasher, 'm').keys], fresh(tokens), `parting at ${at}, ${length} tokens`);
  }
});

test('nothing is reused across salts, models or an earlier prompt never keyed', () => {
  const earlier = new TokenizedPrompt(ids(40));
  const never = new TokenizedPrompt(ids(40), '', earlier);
  assert.deepEqual([...never.keys(hasher, 'm').keys], fresh(ids(40)));
  earlier.keys(hasher, 'm');
  assert.deepEqual([...new TokenizedPrompt(ids(40), 'tenant', earlier).keys(hasher, 'm').keys], fresh(ids(40), 'tenant'));
  const other = new TokenizedPrompt(ids(40), '', earlier).keys(hasher, 'other');
  assert.deepEqual([...other.keys], [...new TokenizedPrompt(ids(40)).keys(hasher, 'other').keys]);
  assert.notDeepEqual([...other.keys], fresh(ids(40)));
});
