/** The JSON bodies vLLM answers generation requests with: whole responses and streamed chunks. */
import { randomUUID } from 'node:crypto';
import type { FinishReason, GenerationResult } from './generation.js';
import type { Endpoint } from './generate-request.js';

/** What every body and chunk of one response shares. */
export interface ResponseContext {
  readonly endpoint: Endpoint;
  /** `chatcmpl-<hex>` or `cmpl-<hex>`, like vLLM's `random_uuid()`. */
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  /** The model as requested (base or adapter). */
  readonly model: string;
}

interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export function newResponseContext(endpoint: Endpoint, model: string): ResponseContext {
  const prefix = endpoint === 'chat' ? 'chatcmpl' : 'cmpl';
  return { endpoint, id: `${prefix}-${randomUUID().replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model };
}

function usageOf(result: GenerationResult): Usage {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
  };
}

function envelope(ctx: ResponseContext, object: string, choices: unknown[]): Record<string, unknown> {
  return { id: ctx.id, object, created: ctx.created, model: ctx.model, choices };
}

/** A non-streamed `chat.completion` or `text_completion`. */
export function completionBody(ctx: ResponseContext, text: string, result: GenerationResult): Record<string, unknown> {
  const choice =
    ctx.endpoint === 'chat'
      ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: result.finishReason }
      : { index: 0, text, logprobs: null, finish_reason: result.finishReason, stop_reason: null };
  const object = ctx.endpoint === 'chat' ? 'chat.completion' : 'text_completion';
  return { ...envelope(ctx, object, [choice]), usage: usageOf(result) };
}

/** vLLM opens a chat stream with a delta that carries only the role (serving_chat.py, first iteration). */
export function roleChunk(ctx: ResponseContext): Record<string, unknown> {
  const choice = { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null };
  return envelope(ctx, 'chat.completion.chunk', [choice]);
}

/** One token; the last one carries `finish_reason`. */
export function tokenChunk(ctx: ResponseContext, text: string, finishReason: FinishReason | null): Record<string, unknown> {
  if (ctx.endpoint === 'chat') {
    const choice = { index: 0, delta: { content: text }, logprobs: null, finish_reason: finishReason };
    return envelope(ctx, 'chat.completion.chunk', [choice]);
  }
  const choice = { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null };
  return envelope(ctx, 'text_completion', [choice]);
}

/** The usage-only chunk sent when `stream_options.include_usage` is true. */
export function usageChunk(ctx: ResponseContext, result: GenerationResult): Record<string, unknown> {
  const object = ctx.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  return { ...envelope(ctx, object, []), usage: usageOf(result) };
}
