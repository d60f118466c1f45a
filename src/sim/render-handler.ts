/**
 * vLLM's render endpoints (`POST /v1/chat/completions/render`, `POST /v1/completions/render`): a request turned
 * into the token ids the engine would run and hash in KV blocks, so a gateway (llm-d's `token-producer`) can
 * compute the same block keys as the engine's KV events carry. The answer is vLLM's `GenerateRequest`.
 */
import type { ServerResponse } from 'node:http';
import type { Json } from './request-fields.js';
import type { TokenizeDeps } from './tokenize-handler.js';
import { checkContextLength } from './generate-handler.js';
import { newResponseContext } from './completion-bodies.js';
import { parseGenerateRequest } from './generate-request.js';
import { sendJson } from './http-io.js';
import { isObject, objectBody } from './request-fields.js';
import { badRequest, modelNotFound } from './vllm-error.js';

/** The part of vLLM's SamplingParams the simulator honours or echoes; vLLM's defaults where the request is silent. */
function samplingParams(body: Json, n: number, maxTokens: number): Json {
  const num = (field: string, fallback: number | null): number | null => (typeof body[field] === 'number' ? (body[field] as number) : fallback);
  return {
    n,
    presence_penalty: num('presence_penalty', 0),
    frequency_penalty: num('frequency_penalty', 0),
    repetition_penalty: num('repetition_penalty', 1),
    temperature: num('temperature', 1),
    top_p: num('top_p', 1),
    seed: num('seed', null),
    max_tokens: maxTokens,
  };
}

/** One rendered prompt, as vLLM's GenerateRequest (features is null: the simulator has no multimodal input). */
function generateRequest(endpoint: 'chat' | 'completion', body: Json, model: string, tokenIds: number[], maxTokens: number | null, n: number, maxModelLen: number): Json {
  checkContextLength(tokenIds.length, maxTokens, maxModelLen);
  const stream = body.stream === true;
  return {
    request_id: newResponseContext(endpoint, model).id,
    token_ids: tokenIds,
    features: null,
    // vLLM's get_max_tokens: what the request asked, else what is left of the context.
    sampling_params: samplingParams(body, n, maxTokens ?? maxModelLen - tokenIds.length),
    model,
    stream,
    stream_options: stream && isObject(body.stream_options) ? body.stream_options : null,
    cache_salt: typeof body.cache_salt === 'string' ? body.cache_salt : null,
    priority: typeof body.priority === 'number' ? body.priority : 0,
    kv_transfer_params: null,
  };
}

/** `POST /v1/chat/completions/render`: the chat's prompt token ids (every message's text, as generation tokenizes it). */
export function handleRenderChat(body: unknown, res: ServerResponse, deps: TokenizeDeps): void {
  const req = parseGenerateRequest('chat', body);
  if (!deps.served.has(req.model)) throw modelNotFound(req.model);
  const tokenIds = deps.tokenizer.encode(req.promptText);
  sendJson(res, 200, generateRequest('chat', objectBody(body), req.model, tokenIds, req.maxTokens, req.n, deps.maxModelLen));
}

/** The prompts of a completion body: a string, strings, token ids, or lists of token ids, one rendered request each. */
function completionPrompts(prompt: unknown, encode: (text: string) => number[]): number[][] {
  const isIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (typeof prompt === 'string') return [encode(prompt)];
  if (isIds(prompt)) return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((p) => typeof p === 'string')) return prompt.map((p: string) => encode(p));
    if (prompt.every(isIds)) return prompt;
  }
  throw badRequest('`prompt` must be a string, a non-empty array of strings, or token ids (an array of integers, or arrays of them)', 'prompt');
}

/** `POST /v1/completions/render`: one GenerateRequest per prompt. */
export function handleRenderCompletion(body: unknown, res: ServerResponse, deps: TokenizeDeps): void {
  const json = objectBody(body);
  // The generation parser checks model, n, max_tokens and streaming; the prompt is read here, where token ids are allowed.
  const req = parseGenerateRequest('completion', { ...json, prompt: 'x' });
  if (!deps.served.has(req.model)) throw modelNotFound(req.model);
  const prompts = completionPrompts(json.prompt, (text) => deps.tokenizer.encode(text));
  sendJson(res, 200, prompts.map((ids) => generateRequest('completion', json, req.model, ids, req.maxTokens, req.n, deps.maxModelLen)));
}
