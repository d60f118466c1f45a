/** Tests for echo and random replies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replyTokens, splitWords } from './reply-text.js';

test('splitWords keeps leading whitespace so the words join back to the text', () => {
  const cases: Array<[string, string[]]> = [
    ['', []],
    ['   ', []],
    ['one', ['one']],
    ['one two  three', ['one', ' two', '  three']],
    ['  lead\nline ', ['  lead', '\nline']],
  ];
  for (const [text, want] of cases) assert.deepEqual(splitWords(text), want, JSON.stringify(text));
});

test('echo returns every word of the input, whatever the length', () => {
  assert.deepEqual(replyTokens('echo', 'say this back', 1), ['say', ' this', ' back']);
});

test('random returns exactly the requested number of tokens, deterministic for a seed', () => {
  for (const length of [0, 1, 7, 16, 100]) {
    const tokens = replyTokens('random', '', length, 0.5);
    assert.equal(tokens.length, length);
    assert.deepEqual(replyTokens('random', '', length, 0.5), tokens);
  }
  assert.match(replyTokens('random', '', 30, 0).join(''), /^\S.*\S$/);
});
