/** Tests for the token estimate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateTokens } from './token-estimate.js';

test('estimateTokens is ceil(chars / 4)', () => {
  const cases: Array<[string, number]> = [
    ['', 0],
    ['a', 1],
    ['abcd', 1],
    ['abcde', 2],
    ['hello world!', 3],
    ['x'.repeat(400), 100],
  ];
  for (const [text, want] of cases) assert.equal(estimateTokens(text), want, JSON.stringify(text));
});
