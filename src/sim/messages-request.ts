/** Validates an Anthropic Messages API body (`POST /v1/messages`, `/v1/messages/count_tokens`) into what the simulator uses. */
import type { Json } from './request-fields.js';
import { chatText, contentText, isObject, objectBody, optionalBoolean, optionalInteger, requiredModel } from './request-fields.js';
import { AnthropicShapedError, badRequest } from './vllm-error.js';

export interface MessagesRequest {
  readonly model: string;
  readonly stream: boolean;
  /** Required by the Messages API (vLLM's AnthropicMessagesRequest has no default); null for count_tokens. */
  readonly maxTokens: number | null;
  /** `system` and every message's text, joined, as chat's prompt is. */
  readonly promptText: string;
  /** What echo mode repeats: the last user message. */
  readonly echoText: string;
  readonly stopSequences: readonly string[];
}

/** `system`: a string, or text blocks whose texts vLLM joins into one system message. */
function systemText(system: unknown): string {
  if (system === undefined || system === null) return '';
  return contentText(system, 'system');
}

function stopSequencesOf(body: Json): string[] {
  const v = body.stop_sequences;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string')) throw badRequest('`stop_sequences` must be an array of strings', 'stop_sequences');
  return v;
}

/**
 * Validates a parsed body; throws a 400 VllmError naming the offending field: in OpenAI's shape for what vLLM's
 * request model refuses (a missing `max_tokens`, a field of the wrong type), in Anthropic's for what its handler
 * does. `countOnly` is count_tokens, which takes neither `max_tokens` nor `stream`.
 */
export function parseMessagesRequest(body: unknown, countOnly = false): MessagesRequest {
  const json = objectBody(body);
  const model = requiredModel(json);
  const maxTokens = countOnly ? null : optionalInteger(json, 'max_tokens', 1);
  if (!countOnly && maxTokens === null) throw badRequest('`max_tokens` is required: the Messages API has no default', 'max_tokens');
  if (!Array.isArray(json.messages)) throw badRequest('`messages` must be an array', 'messages');
  // vLLM's handler checks these after the body validated, so they come in the Anthropic shape.
  if (json.messages.length === 0) throw new AnthropicShapedError(badRequest('messages must contain at least one item', 'messages'));
  if (json.messages.some((m) => isObject(m) && Array.isArray(m.content) && m.content.length === 0)) {
    throw new AnthropicShapedError(badRequest('message content must not be empty', 'messages'));
  }
  const system = systemText(json.system);
  const chat = chatText(json.messages);
  return {
    model,
    stream: countOnly ? false : optionalBoolean(json, 'stream'),
    maxTokens,
    promptText: system + chat.promptText,
    echoText: chat.echoText,
    stopSequences: stopSequencesOf(json),
  };
}
