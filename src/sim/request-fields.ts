/** Field readers shared by the simulator's request parsers; each throws a 400 VllmError naming the field. */
import { badRequest } from './vllm-error.js';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body as an object, or a 400. */
export function objectBody(body: unknown): Json {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object');
  return body;
}

/** `model`, required as in the simulator's generation endpoints (a gateway routes on it). */
export function requiredModel(body: Json): string {
  if (typeof body.model !== 'string' || body.model === '') {
    throw badRequest('`model` is required and must be a non-empty string', 'model');
  }
  return body.model;
}

/** `model` when given; null when absent, as vLLM then uses the served model. */
export function optionalModel(body: Json): string | null {
  if (body.model === undefined || body.model === null) return null;
  return requiredModel(body);
}

export function optionalBoolean(body: Json, field: string): boolean {
  const v = body[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw badRequest(`\`${field}\` must be a boolean`, field);
  return v;
}

/** An integer in [min, max], or null when absent. */
export function optionalInteger(body: Json, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw badRequest(`\`${field}\` must be an integer ${range}, got ${JSON.stringify(v)}`, field);
  }
  return v;
}

/** One of `allowed`, or `fallback` when absent. */
export function optionalEnum<T extends string>(body: Json, field: string, allowed: readonly T[], fallback: T): T {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw badRequest(`\`${field}\` must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(v)}`, field);
  }
  return v as T;
}

/**
 * vLLM's check on `priority` (its engine's input processor): the simulator schedules first come, first served, as
 * vLLM's default `--scheduling-policy fcfs`, under which any priority but 0 is refused, in vLLM's words.
 */
export function checkPriority(body: Json): void {
  const v = body.priority;
  if (v === undefined || v === null || v === 0) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`\`priority\` must be an integer, got ${JSON.stringify(v)}`, 'priority');
  throw badRequest(`Got priority ${v} but Priority scheduling is not enabled.`, 'priority');
}

/**
 * The chat-template switches vLLM's chat requests take (chat completions, its render, `/tokenize` and pooling with
 * `messages`): each a boolean when given, and, as vLLM's `check_generation_prompt`, never both
 * `continue_final_message` and `add_generation_prompt` (continuing the last message and opening a new one).
 */
export function checkChatTemplateFlags(body: Json): void {
  for (const field of ['add_generation_prompt', 'continue_final_message', 'add_special_tokens']) optionalBoolean(body, field);
  if (body.continue_final_message === true && body.add_generation_prompt === true) {
    throw badRequest('Cannot set both `continue_final_message` and `add_generation_prompt` to True.');
  }
}

/** A chat message's text: a plain string, or the `text` of each part of a content array (images etc. add none). */
export function contentText(content: unknown, field: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
  }
  throw badRequest(`\`${field}\` must be a string or an array of parts`, field.split(/[.[]/, 1)[0] ?? field);
}

/** What the simulator's tokenizer sees of a chat: every message's text, joined, and the last user message. */
export function chatText(messages: unknown, field = 'messages'): { promptText: string; echoText: string } {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw badRequest(`\`${field}\` must be a non-empty array`, field);
  }
  const texts: string[] = [];
  let echoText: string | null = null;
  for (const [i, m] of messages.entries()) {
    if (!isObject(m) || typeof m.role !== 'string') {
      throw badRequest(`\`${field}[${i}]\` must be an object with a string \`role\``, field);
    }
    const text = contentText(m.content, `${field}[${i}].content`);
    texts.push(text);
    if (m.role === 'user') echoText = text;
  }
  return { promptText: texts.join(''), echoText: echoText ?? texts[texts.length - 1] ?? '' };
}
