/** Tests for the simulator's tokenizer: counts agree with usage, ids are stable, decoding inverts encoding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateTokens } from './token-estimate.js';
import { Tokenizer } from './tokenizer.js';

const TEXTS = ['', 'a', 'abcd', 'abcde', 'Hello, world! How are you?', 'tabs\tand\nnewlines', 'naïve café ☕ 日本語', '🙂🙃x', '~'.repeat(41)];

test('count, encode and pieces agree with estimateTokens; decode inverts encode', () => {
  const tok = new Tokenizer();
  for (const text of TEXTS) {
    const ids = tok.encode(text);
    assert.equal(ids.length, estimateTokens(text), JSON.stringify(text));
    assert.equal(tok.count(text), ids.length);
    assert.deepEqual(tok.pieces(text).join(''), text);
    assert.equal(tok.decode(ids), text, JSON.stringify(text));
    for (const id of ids) assert.ok(Number.isInteger(id) && id > 0 && id < 2 ** 32, `${id} is a uint32 other than 0`);
  }
});

test('charsPerToken 1-3: a token is that many characters; counts, pieces and decode follow; 0 and 5 are refused', () => {
  const text = 'The quick brown fox, naïve café 日本語.';
  for (const c of [1, 2, 3]) {
    const tok = new Tokenizer(undefined, c);
    const ids = tok.encode(text);
    assert.equal(ids.length, Math.ceil(text.length / c));
    assert.equal(tok.count(text), ids.length);
    assert.ok(tok.pieces(text).every((p, i, all) => p.length === c || i === all.length - 1));
    assert.equal(tok.decode(ids), text);
  }
  // Three characters a token: equal texts up to a piece boundary share their ids there, not beyond.
  const three = new Tokenizer(undefined, 3);
  assert.deepEqual(three.encode('abcdef'), [...three.encode('abc'), ...three.encode('def')]);
  assert.notDeepEqual(three.encode('abcdef'), new Tokenizer().encode('abcdef'));
  for (const bad of [0, 5, 2.5]) assert.throws(() => new Tokenizer(undefined, bad), /characters per token must be a whole number from 1 to 4/);
});

test('ids are the same on every tokenizer; ASCII ids decode without having been seen', () => {
  const a = new Tokenizer();
  const b = new Tokenizer();
  const text = 'The quick brown fox jumps over the lazy dog.';
  assert.deepEqual(a.encode(text), b.encode(text));
  assert.equal(new Tokenizer().decode(a.encode(text)), text);
  // Token i is characters [4i, 4i+4): equal prefixes share their leading ids, as a prefix cache needs.
  const longer = a.encode(`${text} And more.`);
  assert.deepEqual(longer.slice(0, 11), a.encode(text).slice(0, 11));
  assert.deepEqual(a.encode('abcd'), [((97 * 128 + 98) * 128 + 99) * 128 + 100 + (128 ** 3 + 128 ** 2 + 128 + 1)]);
  assert.deepEqual([a.encode('a'), a.encode('\u007f')], [[98], [128]]);
});

test('non-ASCII pieces decode only where they were encoded, and unknown ids are named', () => {
  const a = new Tokenizer();
  const ids = a.encode('日本語です');
  assert.ok(ids.every((id) => id >= 2 ** 31));
  assert.throws(() => new Tokenizer().decode(ids), new RegExp(`token id ${ids[0]} is not in the simulator's vocabulary`));
  for (const bad of [0, -1, 1.5, 2 ** 32 + 5]) assert.throws(() => a.decode([bad]), /not in the simulator's vocabulary/, String(bad));
  const small = new Tokenizer(2);
  const first = small.encode('éééé');
  small.encode('üüüü');
  small.encode('öööö');
  assert.throws(() => small.decode(first), /not in the simulator's vocabulary/, 'the oldest learned piece is forgotten');
});
