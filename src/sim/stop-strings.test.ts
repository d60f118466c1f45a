import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStopStrings } from './stop-strings.js';

const WORDS = ['The', ' quick', ' brown', ' fox', ' jumps'];

const CASES: { name: string; stop: string[]; max: number | null; include?: boolean; tokens: string[]; by: string | null }[] = [
  { name: 'no stop strings', stop: [], max: null, tokens: WORDS, by: null },
  { name: 'absent stop string', stop: ['cat'], max: null, tokens: WORDS, by: null },
  { name: 'whole word', stop: [' fox'], max: null, tokens: ['The', ' quick', ' brown', ''], by: ' fox' },
  { name: 'inside a token', stop: ['row'], max: null, tokens: ['The', ' quick', ' b'], by: 'row' },
  { name: 'across tokens', stop: ['k b'], max: null, tokens: ['The', ' quic', ''], by: 'k b' },
  { name: 'first to complete wins', stop: ['jumps', 'quick'], max: null, tokens: ['The', ' '], by: 'quick' },
  { name: 'included in the output', stop: ['brown'], max: null, include: true, tokens: ['The', ' quick', ' brown'], by: 'brown' },
  { name: 'past max_tokens', stop: ['fox'], max: 3, tokens: WORDS, by: null },
];

for (const c of CASES) {
  test(`applyStopStrings: ${c.name}`, () => {
    const got = applyStopStrings(WORDS, c.stop, c.max, c.include);
    assert.deepEqual(got, { tokens: c.tokens, stoppedBy: c.by });
  });
}
