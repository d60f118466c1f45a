/** Which requests get their errors in the Anthropic Messages API's shape: /v1/messages and below, with or without a query. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { errorBodyFor, isMessagesApi } from './messages-api.js';

test('isMessagesApi: the path /v1/messages and what is below it, not its look-alikes', () => {
  const cases: [url: string | undefined, messages: boolean][] = [
    ['/v1/messages', true],
    ['/v1/messages?beta=true', true],
    ['/v1/messages/count_tokens', true],
    ['/v1/messages/count_tokens?beta=true', true],
    ['/v1/messagesx', false],
    ['/v1/message', false],
    ['/v1/chat/completions', false],
    ['/v2/messages', false],
    [undefined, false],
  ];
  for (const [url, messages] of cases) assert.equal(isMessagesApi(url), messages, String(url));
});

test('errorBodyFor: Anthropic shape under /v1/messages, OpenAI shape elsewhere', () => {
  const e = new GatewayError('model_not_found', 'model `x` is not served here', 'model');
  assert.deepEqual(errorBodyFor('/v1/messages', e), { type: 'error', error: { type: 'not_found_error', message: 'model `x` is not served here' } });
  assert.deepEqual(errorBodyFor('/v1/chat/completions', e), { error: { message: 'model `x` is not served here', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
});
