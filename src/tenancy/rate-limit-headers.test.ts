import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReset, headerRecord, rateLimitHeaders } from './rate-limit-headers.js';
import { windowsAt } from './windows.js';

test('resets are written as OpenAI writes them', () => {
  const cases: [number, string][] = [[20, '20ms'], [0, '0ms'], [1000, '1s'], [1500, '2s'], [59_000, '59s'], [360_000, '6m0s'], [3_723_000, '1h2m3s']];
  for (const [ms, want] of cases) assert.equal(formatReset(ms), want, String(ms));
});

test('headers only for the limits a key sets, remaining never below 0', () => {
  const w = windowsAt(60_000 * 100 + 15_000);
  const h = headerRecord(rateLimitHeaders({ requestsPerMinute: 5, tokensPerMinute: 100 }, { requests: 2, tokens: 150, dayTokens: 150 }, w));
  assert.deepEqual(h, {
    'x-ratelimit-limit-requests': '5',
    'x-ratelimit-remaining-requests': '3',
    'x-ratelimit-reset-requests': '45s',
    'x-ratelimit-limit-tokens': '100',
    'x-ratelimit-remaining-tokens': '0',
    'x-ratelimit-reset-tokens': '45s',
  });
  assert.deepEqual(rateLimitHeaders({ tokensPerDay: 10 }, undefined, w), []);
});
