/** Tests for failure injection: rates, types, vLLM-shaped errors, seeded draws. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FailureType } from './failure-injection.js';
import { seededRandom } from '../seeded-random.js';
import { FAILURE_TYPES, FailureInjector } from './failure-injection.js';

test('rate 100 with one type always answers that error; each type has its status and body', () => {
  const cases: Array<[FailureType, number, string, string | null]> = [
    ['rate_limit', 429, 'RateLimitError', null],
    ['invalid_api_key', 401, 'AuthenticationError', null],
    ['context_length', 400, 'BadRequestError', 'messages'],
    ['server_error', 500, 'InternalServerError', null],
    ['invalid_request', 400, 'BadRequestError', 'model'],
    ['model_not_found', 404, 'NotFoundError', 'model'],
  ];
  assert.equal(cases.length, FAILURE_TYPES.length);
  for (const [type, status, errorType, param] of cases) {
    const err = new FailureInjector(100, [type], Math.random).draw('m');
    assert.equal(err?.status, status, type);
    assert.deepEqual(err?.toBody().error, { message: err?.message, type: errorType, param, code: status });
  }
  assert.match(new FailureInjector(100, ['rate_limit'], Math.random).draw('llama')!.message, /Rate limit reached for llama/);
});

test('rate 0 never fails; a partial rate fails about that share, the same ones for the same seed', () => {
  assert.equal(new FailureInjector(0, [], () => 0).draw('m'), null);
  const draws = (seed: number): Array<number | null> => {
    const f = new FailureInjector(30, [], seededRandom(seed));
    return Array.from({ length: 2000 }, () => f.draw('m')?.status ?? null);
  };
  const a = draws(3);
  assert.deepEqual(draws(3), a);
  const share = a.filter((s) => s !== null).length / a.length;
  assert.ok(share > 0.25 && share < 0.35, `share ${share}`);
  assert.equal(new Set(a.filter((s) => s !== null)).size, 5, 'an empty type list means every type (two share 400)');
});
