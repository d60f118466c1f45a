import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_OBSERVED_NAME_CHARS, observedName } from './observed-name.js';

test('observedName keeps names up to the limit whole and cuts longer ones, marked', () => {
  const at = 'm'.repeat(MAX_OBSERVED_NAME_CHARS);
  assert.equal(observedName('google/gemma-2b-it'), 'google/gemma-2b-it');
  assert.equal(observedName(at), at);
  assert.equal(observedName(`${at}x`), `${at}…`);
  assert.equal(observedName('m'.repeat(4_000_000)).length, MAX_OBSERVED_NAME_CHARS + 1);
});
