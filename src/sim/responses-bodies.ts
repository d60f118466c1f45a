/**
 * The Responses API objects vLLM sends (vllm/entrypoints/openai/protocol.py ResponsesResponse, serving_responses.py):
 * the `response` object, its output message, its usage, and the SSE events of a streamed response.
 */
import { randomUUID } from 'node:crypto';
import type { GenerationResult } from './generation.js';
import type { ResponsesRequest } from './responses-request.js';

/** What every object of one response shares. */
export interface ResponseContext {
  /** `resp_<hex>`, as vLLM's request ids. */
  readonly id: string;
  /** `msg_<hex>`: the one output message (the same id in stream events and in the final object). */
  readonly messageId: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly req: ResponsesRequest;
  /** max_output_tokens as vLLM reports it: the request's, or what the context leaves. */
  readonly maxOutputTokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete';

const hex = (): string => randomUUID().replaceAll('-', '');

export function newResponseContext(req: ResponsesRequest, maxOutputTokens: number): ResponseContext {
  return { id: `resp_${hex()}`, messageId: `msg_${hex()}`, createdAt: Math.floor(Date.now() / 1000), req, maxOutputTokens };
}

/** An `output_text` content part. */
export function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: null };
}

/** The assistant message item; `content` is empty while it is in progress in a stream. */
export function outputMessage(ctx: ResponseContext, text: string | null): Record<string, unknown> {
  const done = text !== null;
  return { id: ctx.messageId, type: 'message', role: 'assistant', status: done ? 'completed' : 'in_progress', content: done ? [outputText(text)] : [] };
}

/** vLLM's ResponseUsage: input/output tokens with their details (no reasoning, no prefix-cache count). */
export function responseUsage(result: GenerationResult): Record<string, unknown> {
  return {
    input_tokens: result.promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: result.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: result.promptTokens + result.completionTokens,
  };
}

/**
 * The `response` object. A finished one (`result` given) holds the message (none if nothing was generated) and
 * its usage; one cut by max_output_tokens is `incomplete`, as OpenAI reports it.
 */
export function responseObject(ctx: ResponseContext, text: string | null, result: GenerationResult | null): Record<string, unknown> {
  const b = ctx.req.body;
  const incomplete = result?.finishReason === 'length';
  const status: ResponseStatus = result === null ? 'in_progress' : incomplete ? 'incomplete' : 'completed';
  return {
    id: ctx.id,
    object: 'response',
    created_at: ctx.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: ctx.req.instructions,
    max_output_tokens: ctx.maxOutputTokens,
    max_tool_calls: b.max_tool_calls ?? null,
    metadata: b.metadata ?? null,
    model: ctx.req.model,
    output: result !== null && text !== null && text !== '' ? [outputMessage(ctx, text)] : [],
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: ctx.req.previousResponseId,
    prompt: null,
    reasoning: b.reasoning ?? null,
    service_tier: b.service_tier ?? 'auto',
    store: ctx.req.store,
    temperature: b.temperature ?? 1.0,
    text: b.text ?? null,
    tool_choice: b.tool_choice ?? 'auto',
    tools: b.tools ?? [],
    top_logprobs: b.top_logprobs ?? 0,
    top_p: b.top_p ?? 1.0,
    truncation: b.truncation ?? 'disabled',
    usage: result === null ? null : responseUsage(result),
    user: b.user ?? null,
  };
}

/** Numbers the events of one stream from 0, as vLLM's `_increment_sequence_number_and_return`. */
export class ResponseEvents {
  readonly #ctx: ResponseContext;
  #sequence = 0;

  constructor(ctx: ResponseContext) {
    this.#ctx = ctx;
  }

  #event(type: string, fields: Record<string, unknown>): Record<string, unknown> {
    return { type, sequence_number: this.#sequence++, ...fields };
  }

  /** `response.created` and `response.in_progress`, both carrying the in-progress response. */
  opening(): Array<Record<string, unknown>> {
    const response = responseObject(this.#ctx, null, null);
    return [this.#event('response.created', { response }), this.#event('response.in_progress', { response })];
  }

  /** Before the first delta: the message item, then its empty text part. */
  itemAdded(): Array<Record<string, unknown>> {
    const at = { output_index: 0 };
    return [
      this.#event('response.output_item.added', { ...at, item: outputMessage(this.#ctx, null) }),
      this.#event('response.content_part.added', {
        ...at,
        item_id: this.#ctx.messageId,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      }),
    ];
  }

  delta(text: string): Record<string, unknown> {
    return this.#event('response.output_text.delta', { item_id: this.#ctx.messageId, output_index: 0, content_index: 0, delta: text, logprobs: [] });
  }

  /** After the last delta: the text, the part and the item, each done. */
  itemDone(text: string): Array<Record<string, unknown>> {
    const at = { item_id: this.#ctx.messageId, output_index: 0, content_index: 0 };
    return [
      this.#event('response.output_text.done', { ...at, text, logprobs: [] }),
      this.#event('response.content_part.done', { ...at, part: { type: 'output_text', text, annotations: [] } }),
      this.#event('response.output_item.done', { output_index: 0, item: outputMessage(this.#ctx, text) }),
    ];
  }

  /** `response.completed` with the final response (whatever its status, as vLLM sends it). */
  completed(response: Record<string, unknown>): Record<string, unknown> {
    return this.#event('response.completed', { response });
  }
}
