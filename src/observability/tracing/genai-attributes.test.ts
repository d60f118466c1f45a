import assert from 'node:assert/strict';
import { it } from 'node:test';
import { operationOf, providerOf, spanNameOf } from './genai-attributes.js';

it('names the GenAI operation of each OpenAI path, and the span after it', () => {
  const cases: [method: string, path: string, model: string | undefined, op: string | undefined, name: string][] = [
    ['POST', '/v1/chat/completions', 'llama', 'chat', 'chat llama'],
    ['POST', '/v1/chat/completions/', 'llama', 'chat', 'chat llama'],
    ['POST', '/v1/responses', 'llama', 'chat', 'chat llama'],
    ['POST', '/v1/completions', 'llama', 'text_completion', 'text_completion llama'],
    ['POST', '/v1/embeddings', 'e5', 'embeddings', 'embeddings e5'],
    // vLLM's Anthropic Messages API (Claude Code, the Anthropic SDKs): a chat turn.
    ['POST', '/v1/messages', 'qwen', 'chat', 'chat qwen'],
    ['POST', '/v1/messages/count_tokens', 'qwen', undefined, 'POST'],
    ['POST', '/v1/chat/completions', undefined, 'chat', 'chat'],
    ['POST', '/v1/load_lora_adapter', 'x', undefined, 'POST'],
    ['GET', '/v1/models', undefined, undefined, 'GET'],
  ];
  for (const [method, path, model, op, name] of cases) {
    assert.equal(operationOf(path), op, path);
    assert.equal(spanNameOf(method, path, model), name, path);
  }
});

it('names the provider whose API the path speaks: anthropic under /v1/messages, openai elsewhere', () => {
  assert.equal(providerOf('/v1/messages'), 'anthropic');
  assert.equal(providerOf('/v1/messages/'), 'anthropic');
  assert.equal(providerOf('/v1/chat/completions'), 'openai');
  assert.equal(providerOf('/v1/responses'), 'openai');
});
