/** Envoy's ImmediateResponse for a refusal: the standalone gateway's status, headers and body, in the shape the request's path calls for. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { immediateResponse } from './immediate-response.js';

test("under /v1/messages the body is the Anthropic Messages API's, as vLLM's there; elsewhere (or with no path yet) OpenAI's", () => {
  const err = new GatewayError('model_not_found', 'model `x` is not served here', 'model');
  const body = (path: string | undefined): unknown => JSON.parse(immediateResponse(err, path).body!.toString());
  assert.deepEqual(body('/v1/messages?beta=true'), { type: 'error', error: { type: 'not_found_error', message: 'model `x` is not served here' } });
  assert.deepEqual(body('/v1/chat/completions'), { error: { message: 'model `x` is not served here', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
  assert.deepEqual(body(undefined), body('/v1/chat/completions'));
  assert.equal(immediateResponse(err, '/v1/messages').status?.code, 404);
});
