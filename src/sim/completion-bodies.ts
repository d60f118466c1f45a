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

/** One finished choice of a non-streamed response. */
export interface ChoiceResult {
  readonly text: string;
  readonly finishReason: FinishReason | 'tool_calls';
  /** vLLM's `stop_reason`: the stop string that ended the choice; null (or absent) otherwise. */
  readonly stopReason?: string | null;
  /** The choice's logprobs in the endpoint's shape; null (or absent) when not asked. */
  readonly logprobs?: unknown;
  /** Chat's forced tool call: the text is its arguments, answered in `tool_calls` with an empty `content`. */
  readonly toolCall?: ToolCallRef | null;
}

/** A tool call of a chat reply: vLLM's id (`chatcmpl-tool-<hex>`) and the function called. */
export interface ToolCallRef {
  readonly id: string;
  readonly name: string;
}

export function newToolCallRef(name: string): ToolCallRef {
  return { id: `chatcmpl-tool-${randomUUID().replaceAll('-', '')}`, name };
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export function newResponseContext(endpoint: Endpoint, model: string): ResponseContext {
  const prefix = endpoint === 'chat' ? 'chatcmpl' : 'cmpl';
  return { endpoint, id: `${prefix}-${randomUUID().replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model };
}

/**
 * Like vLLM with `n` > 1: each prompt counts once (results come `n` per prompt, prompt by prompt), the completion
 * tokens of every choice add up.
 */
export function usageOf(results: readonly GenerationResult[], n = results.length): Usage {
  let prompt = 0;
  for (let i = 0; i < results.length; i += Math.max(1, n)) prompt += results[i]?.promptTokens ?? 0;
  const completion = results.reduce((sum, r) => sum + r.completionTokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function envelope(ctx: ResponseContext, object: string, choices: unknown[]): Record<string, unknown> {
  return { id: ctx.id, object, created: ctx.created, model: ctx.model, choices };
}

/** A non-streamed `chat.completion` or `text_completion` with one choice per element of `choices`, in index order. */
export function completionBody(ctx: ResponseContext, choices: readonly ChoiceResult[], usage: Usage): Record<string, unknown> {
  const bodies = choices.map(({ text, finishReason, stopReason = null, logprobs = null, toolCall = null }, index) =>
    ctx.endpoint === 'chat'
      ? { index, message: messageOf(text, toolCall), logprobs, finish_reason: finishReason, stop_reason: stopReason }
      : { index, text, logprobs, finish_reason: finishReason, stop_reason: stopReason },
  );
  const object = ctx.endpoint === 'chat' ? 'chat.completion' : 'text_completion';
  return { ...envelope(ctx, object, bodies), usage };
}

/** vLLM's assistant message: the text, or for a forced tool call empty content and the call with the text as arguments. */
function messageOf(text: string, toolCall: ToolCallRef | null): Record<string, unknown> {
  if (toolCall === null) return { role: 'assistant', content: text };
  return { role: 'assistant', content: '', tool_calls: [{ id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: text } }] };
}

/**
 * A piece of a forced tool call's arguments, as vLLM streams them: the first delta of a choice carries the call's
 * id, type and name; the later ones only more arguments.
 */
export function toolCallChunk(
  ctx: ResponseContext,
  call: ToolCallRef,
  args: string,
  first: boolean,
  finishReason: FinishReason | 'tool_calls' | null,
  index = 0,
  logprobs: unknown = null,
): Record<string, unknown> {
  const tool = first ? { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: args } } : { index: 0, function: { arguments: args } };
  const choice = { index, delta: { tool_calls: [tool] }, logprobs, finish_reason: finishReason, stop_reason: null };
  return envelope(ctx, 'chat.completion.chunk', [choice]);
}

/** vLLM opens a chat stream with a delta that carries only the role, one per choice (serving_chat.py, first iteration). */
export function roleChunk(ctx: ResponseContext, index = 0): Record<string, unknown> {
  const choice = { index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null };
  return envelope(ctx, 'chat.completion.chunk', [choice]);
}

/** One token of choice `index` (with its logprobs when asked); the choice's last one carries `finish_reason`. */
export function tokenChunk(
  ctx: ResponseContext,
  text: string,
  finishReason: FinishReason | null,
  index = 0,
  stopReason: string | null = null,
  logprobs: unknown = null,
): Record<string, unknown> {
  if (ctx.endpoint === 'chat') {
    const choice = { index, delta: { content: text }, logprobs, finish_reason: finishReason, stop_reason: stopReason };
    return envelope(ctx, 'chat.completion.chunk', [choice]);
  }
  const choice = { index, text, logprobs, finish_reason: finishReason, stop_reason: stopReason };
  return envelope(ctx, 'text_completion', [choice]);
}

/** The usage-only chunk sent when `stream_options.include_usage` is true. */
export function usageChunk(ctx: ResponseContext, usage: Usage): Record<string, unknown> {
  const object = ctx.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  return { ...envelope(ctx, object, []), usage };
}
