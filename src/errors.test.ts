/** The catalogue's retry advice: `retry-after` on the failures a retry can fix, `x-should-retry: false` on those it cannot. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOGUE, GatewayError, MAX_SHOWN_CHARS, shown, type ErrorCode } from './errors.js';

const cases: [code: ErrorCode, retry: number | false | undefined, headers: Record<string, string> | undefined][] = [
  ['request_shed', undefined, { 'retry-after': '1' }],
  ['not_ready', undefined, { 'retry-after': '1' }],
  ['too_many_connections', undefined, { 'retry-after': '1' }],
  ['endpoint_picker_unavailable', undefined, { 'retry-after': '1' }],
  ['pool_not_found', undefined, { 'x-should-retry': 'false' }],
  ['backend_not_supported', undefined, { 'x-should-retry': 'false' }],
  // no_healthy_endpoint depends on why: the site says.
  ['no_healthy_endpoint', undefined, undefined],
  ['no_healthy_endpoint', 1, { 'retry-after': '1' }],
  ['no_healthy_endpoint', false, { 'x-should-retry': 'false' }],
  ['model_not_found', undefined, undefined],
  ['upstream_unavailable', undefined, undefined],
];

for (const [code, retry, headers] of cases) {
  test(`${code}${retry !== undefined ? ` (given ${retry})` : ''} -> ${JSON.stringify(headers)}`, () => {
    const e = new GatewayError(code, 'm', null, retry);
    assert.deepEqual(e.retryHeaders(), headers);
    assert.equal(e.status, ERROR_CATALOGUE[code].status);
  });
}

test('every 429 and 503 the gateway produces itself has advice by default, except no_healthy_endpoint, which depends on why', () => {
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
    if ((spec.status === 429 || spec.status === 503) && code !== 'no_healthy_endpoint') assert.ok(new GatewayError(code as ErrorCode, 'm').retryHeaders(), code);
  }
});

test('shown repeats a value whole up to its limit, else its start and its length', () => {
  assert.equal(shown('gpt-4'), 'gpt-4');
  assert.equal(shown('m'.repeat(MAX_SHOWN_CHARS)), 'm'.repeat(MAX_SHOWN_CHARS));
  assert.equal(shown('m'.repeat(1_000_000)), `${'m'.repeat(MAX_SHOWN_CHARS)}… (1000000 characters)`);
});

test("under /v1/messages an error is in Anthropic's shape, its type Anthropic's for the status", () => {
  const cases: [code: ErrorCode, type: string][] = [
    ['invalid_json', 'invalid_request_error'],
    ['method_not_allowed', 'invalid_request_error'],
    ['request_timeout', 'invalid_request_error'],
    ['invalid_api_key', 'authentication_error'],
    ['model_not_allowed', 'permission_error'],
    ['model_not_found', 'not_found_error'],
    ['request_too_large', 'request_too_large'],
    ['rate_limit_exceeded', 'rate_limit_error'],
    ['insufficient_quota', 'rate_limit_error'],
    ['no_healthy_endpoint', 'overloaded_error'],
    ['internal_error', 'api_error'],
    ['upstream_unavailable', 'api_error'],
    ['upstream_timeout', 'api_error'],
  ];
  for (const [code, type] of cases) {
    assert.deepEqual(new GatewayError(code, 'what to do').toAnthropicBody(), { type: 'error', error: { type, message: 'what to do' } }, code);
  }
});
