/** Table tests for vLLM's API-key rule: which paths it guards and which headers pass. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ApiKeyGuard } from './api-key-guard.js';

function request(method: string, authorization?: string): IncomingMessage {
  return { method, headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
}

test('every /v1 path needs a right Bearer key; other paths and OPTIONS do not', () => {
  const guard = new ApiKeyGuard(['key-1', 'key-2']);
  const cases: Array<[string, string, string | undefined, boolean]> = [
    ['POST', '/v1/chat/completions', undefined, false],
    ['POST', '/v1/chat/completions', 'Bearer key-1', true],
    ['POST', '/v1/chat/completions', 'Bearer key-2', true],
    ['GET', '/v1/models', 'bearer key-1', true],
    ['GET', '/v1/models', 'BEARER key-2', true],
    ['GET', '/v1/models', 'Bearer wrong', false],
    ['GET', '/v1/models', 'Bearer key-1 ', false],
    ['GET', '/v1/models', 'Basic key-1', false],
    ['GET', '/v1/models', 'key-1', false],
    ['GET', '/v1/models', 'Bearer ', false],
    ['POST', '/v1/responses/resp_1/cancel', undefined, false],
    ['OPTIONS', '/v1/chat/completions', undefined, true],
    ['GET', '/health', undefined, true],
    ['GET', '/metrics', undefined, true],
    ['POST', '/tokenize', undefined, true],
    ['POST', '/pooling', undefined, true],
    ['POST', '/score', undefined, true],
    ['POST', '/rerank', undefined, true],
    ['POST', '/v2/rerank', undefined, true],
  ];
  for (const [method, path, auth, want] of cases) {
    assert.equal(guard.allows(request(method, auth), path), want, `${method} ${path} ${auth ?? '(no header)'}`);
  }
});

test('no keys (or only empty ones) means no check', () => {
  for (const guard of [new ApiKeyGuard([]), new ApiKeyGuard([''])]) {
    assert.equal(guard.enabled, false);
    assert.equal(guard.allows(request('POST'), '/v1/completions'), true);
  }
});
