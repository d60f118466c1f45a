/**
 * vLLM's render endpoints (`POST /v1/chat/completions/render`, `POST /v1/completions/render`): a request turned
 * into the token ids the engine would run and hash in KV blocks, so a gateway (llm-d's `token-producer`) can
 * compute the same block keys as the engine's KV events carry. The answer is vLLM's `GenerateRequest`, with each token's
 * character span and the assistant-turn mask when asked (render-token-info.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Json } from './request-fields.js';
import type { TokenizeDeps } from './tokenize-handler.js';
import { checkContextLength } from './generate-handler.js';
import { newResponseContext } from './completion-bodies.js';
import { parseGenerateRequest } from './generate-request.js';
import { sendJson } from './http-io.js';
import { isObject, objectBody, optionalBoolean } from './request-fields.js';
import { assistantTokensMask, tokenOffsets } from './render-token-info.js';
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

/** What a rendered prompt carries besides its ids, when the request asked for it (null otherwise, as vLLM). */
interface TokenInfo {
  /** `return_assistant_tokens_mask` (chat). */
  readonly assistantTokensMask: number[] | null;
  /** `return_token_offsets`; null for a prompt given as token ids (there is no text), as vLLM. */
  readonly tokenOffsets: [number, number][] | null;
}

const NO_TOKEN_INFO: TokenInfo = { assistantTokensMask: null, tokenOffsets: null };

/**
 * One rendered prompt, as vLLM's GenerateRequest, its fields in vLLM's order (features is null: the simulator has
 * no multimodal input; ec_transfer_params null: no encoder-cache transfer).
 */
function generateRequest(endpoint: 'chat' | 'completion', body: Json, model: string, tokenIds: number[], info: TokenInfo, maxTokens: number | null, n: number, maxModelLen: number): Json {
  checkContextLength(tokenIds.length, maxTokens, maxModelLen);
  const stream = body.stream === true;
  return {
    request_id: newResponseContext(endpoint, model).id,
    token_ids: tokenIds,
    assistant_tokens_mask: info.assistantTokensMask,
    token_offsets: info.tokenOffsets,
    features: null,
    // vLLM's get_max_tokens: what the request asked, else what is left of the context.
    sampling_params: samplingParams(body, n, maxTokens ?? maxModelLen - tokenIds.length),
    model,
    stream,
    stream_options: stream && isObject(body.stream_options) ? body.stream_options : null,
    cache_salt: typeof body.cache_salt === 'string' ? body.cache_salt : null,
    priority: typeof body.priority === 'number' ? body.priority : 0,
    kv_transfer_params: null,
    ec_transfer_params: null,
  };
}

/** `POST /v1/chat/completions/render`: the chat's prompt token ids (every message's text, as generation tokenizes it). */
export function handleRenderChat(body: unknown, res: ServerResponse, deps: TokenizeDeps): void {
  const req = parseGenerateRequest('chat', body);
  const json = objectBody(body);
  const wantOffsets = optionalBoolean(json, 'return_token_offsets');
  const wantMask = optionalBoolean(json, 'return_assistant_tokens_mask');
  if (!deps.served.has(req.model)) throw modelNotFound(req.model);
  const tokenIds = deps.tokenizer.encode(req.promptText);
  const info: TokenInfo = {
    // The simulator's template is the contents joined: the assistant turns' spans are known exactly.
    assistantTokensMask: wantMask ? assistantTokensMask(json.messages as unknown[], deps.tokenizer, tokenIds.length) : null,
    tokenOffsets: wantOffsets ? tokenOffsets(req.promptText, deps.tokenizer) : null,
  };
  sendJson(res, 200, generateRequest('chat', json, req.model, tokenIds, info, req.maxTokens, req.n, deps.maxModelLen));
}

/** The prompts of a completion body: a string, strings, token ids, or lists of token ids, one rendered request each. */
function completionPrompts(prompt: unknown): (string | number[])[] {
  const isIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (typeof prompt === 'string') return [prompt];
  if (isIds(prompt)) return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((p) => typeof p === 'string')) return prompt as string[];
    if (prompt.every(isIds)) return prompt;
  }
  throw badRequest('`prompt` must be a string, a non-empty array of strings, or token ids (an array of integers, or arrays of them)', 'prompt');
}

/** `POST /v1/completions/render`: one GenerateRequest per prompt. */
export function handleRenderCompletion(body: unknown, res: ServerResponse, deps: TokenizeDeps): void {
  const json = objectBody(body);
  // The generation parser checks model, n, max_tokens and streaming; the prompt is read here, where token ids are allowed.
  const req = parseGenerateRequest('completion', { ...json, prompt: 'x' });
  const wantOffsets = optionalBoolean(json, 'return_token_offsets');
  if (!deps.served.has(req.model)) throw modelNotFound(req.model);
  const prompts = completionPrompts(json.prompt);
  sendJson(
    res,
    200,
    prompts.map((p) => {
      const text = typeof p === 'string';
      const info: TokenInfo = wantOffsets && text ? { ...NO_TOKEN_INFO, tokenOffsets: tokenOffsets(p, deps.tokenizer) } : NO_TOKEN_INFO;
      return generateRequest('completion', json, req.model, text ? deps.tokenizer.encode(p) : p, info, req.maxTokens, req.n, deps.maxModelLen);
    }),
  );
}
