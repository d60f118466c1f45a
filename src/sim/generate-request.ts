/** Validates a `/v1/completions` or `/v1/chat/completions` body into the few fields the simulator uses. */
import { badRequest } from './vllm-error.js';

/** Which OpenAI endpoint a request came in on; it decides the response shapes. */
export type Endpoint = 'chat' | 'completion';

/** A validated generation request. */
export interface GenerateRequest {
  readonly endpoint: Endpoint;
  /** The served name asked for: the base model or a LoRA adapter. */
  readonly model: string;
  readonly stream: boolean;
  /** `stream_options.include_usage`: send a usage-only chunk before `[DONE]`. */
  readonly includeUsage: boolean;
  /** `max_tokens` (or chat's `max_completion_tokens`); null when the client set no cap. */
  readonly maxTokens: number | null;
  /** Everything the tokenizer would see: the prompt, or all message contents concatenated. */
  readonly promptText: string;
  /** What echo mode repeats: the prompt, or the last user message. */
  readonly echoText: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalBoolean(body: Json, field: string): boolean {
  const v = body[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw badRequest(`\`${field}\` must be a boolean`, field);
  return v;
}

function maxTokensOf(body: Json): number | null {
  // Newer OpenAI clients send max_completion_tokens for chat; vLLM prefers it over max_tokens.
  const field = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw badRequest(`\`${field}\` must be an integer of at least 1, got ${JSON.stringify(v)}`, field);
  }
  return v;
}

function streamFields(body: Json): { stream: boolean; includeUsage: boolean } {
  const stream = optionalBoolean(body, 'stream');
  const options = body.stream_options;
  if (options === undefined || options === null) return { stream, includeUsage: false };
  if (!isObject(options)) throw badRequest('`stream_options` must be an object', 'stream_options');
  // Same rule as vLLM's protocol validator.
  if (!stream) throw badRequest('Stream options can only be defined when `stream=True`.', 'stream_options');
  return { stream, includeUsage: optionalBoolean(options, 'include_usage') };
}

/** A message's text: a plain string, or the `text` parts of a multi-part content array. */
function contentText(content: unknown, index: number): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isObject(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
      .join('');
  }
  throw badRequest(`\`messages[${index}].content\` must be a string or an array of parts`, 'messages');
}

function chatPrompt(body: Json): { promptText: string; echoText: string } {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw badRequest('`messages` must be a non-empty array', 'messages');
  }
  const texts: string[] = [];
  let echoText: string | null = null;
  for (const [i, m] of messages.entries()) {
    if (!isObject(m) || typeof m.role !== 'string') {
      throw badRequest(`\`messages[${i}]\` must be an object with a string \`role\``, 'messages');
    }
    const text = contentText(m.content, i);
    texts.push(text);
    if (m.role === 'user') echoText = text;
  }
  return { promptText: texts.join(''), echoText: echoText ?? texts[texts.length - 1] ?? '' };
}

function completionPrompt(body: Json): { promptText: string; echoText: string } {
  const prompt = body.prompt;
  if (typeof prompt === 'string') return { promptText: prompt, echoText: prompt };
  // A batch of prompts is answered as one choice over their joined text; the simulator has no batch choices.
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === 'string')) {
    const text = prompt.join('\n');
    return { promptText: text, echoText: text };
  }
  throw badRequest('`prompt` must be a string or a non-empty array of strings', 'prompt');
}

/** Validates a parsed JSON body; throws a 400 VllmError naming the offending field. */
export function parseGenerateRequest(endpoint: Endpoint, body: unknown): GenerateRequest {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') {
    throw badRequest('`model` is required and must be a non-empty string', 'model');
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw badRequest('the simulator only supports `n` = 1', 'n');
  }
  const prompt = endpoint === 'chat' ? chatPrompt(body) : completionPrompt(body);
  return { endpoint, model: body.model, ...streamFields(body), maxTokens: maxTokensOf(body), ...prompt };
}
