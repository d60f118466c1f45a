/** Validates a `/v1/completions` or `/v1/chat/completions` body into the few fields the simulator uses. */
import type { Json } from './request-fields.js';
import { chatText, checkChatTemplateFlags, contentText, checkPriority, objectBody, optionalBoolean, optionalInteger, isObject, requiredModel } from './request-fields.js';
import { structuredReply } from './structured-reply.js';
import type { ForcedToolCall } from './tool-choice.js';
import { forcedToolCall } from './tool-choice.js';
import { badRequest } from './vllm-error.js';

/** Which OpenAI endpoint a request came in on; it decides the response shapes. */
export type Endpoint = 'chat' | 'completion';

/** At most this many choices per request: each is a sequence in the engine, like vLLM's parallel sampling. */
export const MAX_CHOICES = 128;

/** A validated generation request. */
export interface GenerateRequest {
  readonly endpoint: Endpoint;
  /** The served name asked for: the base model or a LoRA adapter. */
  readonly model: string;
  readonly stream: boolean;
  /** `stream_options.include_usage`: send a usage-only chunk before `[DONE]`. */
  readonly includeUsage: boolean;
  /** `stream_options.continuous_usage_stats` with `include_usage` (vLLM): every chunk carries the usage so far. */
  readonly continuousUsage: boolean;
  /** `max_tokens` (or chat's `max_completion_tokens`); null when the client set no cap. */
  readonly maxTokens: number | null;
  /** `n`: how many choices to generate for the one prompt (default 1). */
  readonly n: number;
  /** Everything the tokenizer would see: the prompt, or all message contents concatenated. */
  readonly promptText: string;
  /** What echo mode repeats: the prompt, or the last user message. */
  readonly echoText: string;
  /**
   * Completions: each prompt of `prompt`, as text or token ids. vLLM answers every one with `n` choices of its
   * own (choice index prompt x n + j); the ids are decoded by the engine's tokenizer. Chat: empty.
   */
  readonly prompts: readonly (string | readonly number[])[];
  /** `stop`: the reply ends at the first of these strings to appear (empty when none). */
  readonly stop: readonly string[];
  /** `include_stop_str_in_output` (vLLM): keep the stop string at the end of the text. */
  readonly includeStopStr: boolean;
  /** `cache_salt` (vLLM): the prompt's KV blocks are cached apart from other salts'; null without one. */
  readonly cacheSalt: string | null;
  /**
   * `echo`: a completion's text starts with its prompt; a chat reply with the last message's content when that
   * message is the assistant's (vLLM's extension, to continue a reply). With `max_tokens: 0` a completion is its
   * prompt alone.
   */
  readonly echo: boolean;
  /** Chat with `echo`: what the reply is prefixed with (the trailing assistant message's content, else ''). */
  readonly chatEchoPrefix: string;
  /**
   * Log probabilities asked for: how many most likely tokens each output token lists (a completion's `logprobs`,
   * chat's `top_logprobs` with `logprobs` on, 0 without it); null when not asked.
   */
  readonly logprobs: number | null;
  /** The JSON text `response_format` (`json_object`, `json_schema`) forces the reply to be; null when free. */
  readonly structured: string | null;
  /** Chat's `tool_choice` naming a function (or `required`): the reply is that call, its arguments `structured`. */
  readonly toolCall: ForcedToolCall | null;
  /** `kv_transfer_params` of P/D's NIXL connector (what a prefill or decode leg asks); null when the request has none. */
  readonly kvTransfer: KvTransfer | null;
}

/**
 * vLLM's NixlConnector `kv_transfer_params`: `do_remote_decode` (a prefill leg: keep the KV for a remote decode,
 * and answer where it is), `do_remote_prefill` (a decode leg: the prompt's KV was computed on the prefill pod the
 * other fields name, and is pulled instead of computed).
 */
export interface KvTransfer {
  readonly remoteDecode: boolean;
  readonly remotePrefill: boolean;
}

function kvTransferOf(json: Json): KvTransfer | null {
  const v = json.kv_transfer_params;
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('kv_transfer_params must be an object', 'kv_transfer_params');
  const o = v as Json;
  return { remoteDecode: o.do_remote_decode === true, remotePrefill: o.do_remote_prefill === true && Array.isArray(o.remote_block_ids) };
}

/** vLLM's check_cache_salt_support: a salt is a non-empty string. */
function cacheSaltOf(body: Json): string | null {
  const v = body.cache_salt;
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v === '') throw badRequest("Parameter 'cache_salt' must be a non-empty string if provided.", 'cache_salt');
  return v;
}

function stopOf(body: Json): string[] {
  const stop = body.stop;
  if (stop === undefined || stop === null) return [];
  const stops: unknown[] = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : [null];
  if (!stops.every((s): s is string => typeof s === 'string')) throw badRequest('`stop` must be a string or an array of strings', 'stop');
  // vLLM's SamplingParams check, in its words: an empty stop string would end every reply at once.
  if (stops.includes('')) throw badRequest('stop cannot contain an empty string.', 'stop');
  return stops;
}

/** vLLM's CompletionRequest default for a `max_tokens` left out (OpenAI's too); chat has none. */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

function maxTokensOf(endpoint: Endpoint, body: Json, echo: boolean): number | null {
  // Newer OpenAI clients send max_completion_tokens for chat; vLLM prefers it over max_tokens.
  const field = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  // A completion without max_tokens stops at 16 tokens with finish_reason "length", as vLLM's; an explicit null
  // lifts the cap there too (up to the context).
  if (endpoint === 'completion' && body.max_tokens === undefined) return COMPLETIONS_DEFAULT_MAX_TOKENS;
  // OpenAI's (and vLLM's) echo without generation: a completion with echo may ask for no tokens, to read its prompt
  // back (lm-eval's loglikelihood requests do).
  return optionalInteger(body, field, endpoint === 'completion' && echo ? 0 : 1);
}

function streamFields(body: Json): { stream: boolean; includeUsage: boolean; continuousUsage: boolean } {
  const stream = optionalBoolean(body, 'stream');
  const options = body.stream_options;
  if (options === undefined || options === null) return { stream, includeUsage: false, continuousUsage: false };
  if (!isObject(options)) throw badRequest('`stream_options` must be an object', 'stream_options');
  // Same rule as vLLM's protocol validator.
  if (!stream) throw badRequest('Stream options can only be defined when `stream=True`.', 'stream_options');
  const includeUsage = optionalBoolean(options, 'include_usage');
  // vLLM honours continuous_usage_stats only together with include_usage.
  return { stream, includeUsage, continuousUsage: includeUsage && optionalBoolean(options, 'continuous_usage_stats') };
}

function isTokenIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0);
}

/** `prompt` as vLLM takes it: a string, strings, token ids, or lists of token ids; one entry per prompt. */
function completionPrompts(body: Json): { promptText: string; echoText: string; prompts: (string | number[])[] } {
  const prompt = body.prompt;
  let prompts: (string | number[])[] | undefined;
  if (typeof prompt === 'string') prompts = [prompt];
  else if (isTokenIds(prompt)) prompts = [prompt];
  else if (Array.isArray(prompt) && prompt.length > 0 && (prompt.every((p) => typeof p === 'string') || prompt.every(isTokenIds))) prompts = prompt as (string | number[])[];
  if (prompts === undefined) throw badRequest('`prompt` must be a string, a non-empty array of strings, or token ids (an array of integers, or arrays of them)', 'prompt');
  // vLLM's input processor refuses a prompt of no tokens (chat always has its template's).
  if (prompts.includes('')) throw badRequest('The decoder prompt cannot be empty', 'prompt');
  // The texts, for what reads a request's prompt as a whole (the render API reads `prompt` itself).
  const text = prompts.filter((p) => typeof p === 'string').join('\n');
  return { promptText: text, echoText: text, prompts };
}

/** Validates a parsed JSON body; throws a 400 VllmError naming the offending field. */
export function parseGenerateRequest(endpoint: Endpoint, body: unknown): GenerateRequest {
  const json = objectBody(body);
  const model = requiredModel(json);
  const n = optionalInteger(json, 'n', 1, MAX_CHOICES) ?? 1;
  const prompt = endpoint === 'chat' ? { ...chatText(json.messages), prompts: [] } : completionPrompts(json);
  if (endpoint === 'chat') checkChatTemplateFlags(json);
  checkSampling(json);
  // vLLM's _verify_greedy_sampling: temperature 0 gives one answer, so asking for several is refused.
  if (n > 1 && typeof json.temperature === 'number' && json.temperature < 1e-5) throw badRequest(`n must be 1 when using greedy sampling, got ${n}.`, 'n');
  checkLaxTypes(endpoint, json);
  checkLogprobs(endpoint, json);
  // vLLM's renderer refuses fill-in-the-middle in its words; FIM clients detect this 400 and fall back to prefix-only.
  if (endpoint === 'completion' && json.suffix !== undefined && json.suffix !== null) throw badRequest('suffix is not currently supported', 'suffix');
  checkPriority(json);
  const stop = { stop: stopOf(json), includeStopStr: optionalBoolean(json, 'include_stop_str_in_output') };
  const echo = optionalBoolean(json, 'echo');
  const chatEchoPrefix = endpoint === 'chat' && echo ? trailingAssistantText(json.messages) : '';
  return { endpoint, model, ...streamFields(json), maxTokens: maxTokensOf(endpoint, json, echo), n, ...prompt, ...stop, cacheSalt: cacheSaltOf(json), echo, chatEchoPrefix, logprobs: logprobsOf(endpoint, json), ...replyFormat(endpoint, json), kvTransfer: kvTransferOf(json) };
}

/** What the reply is forced to be: a tool call's arguments (chat's tool_choice) or response_format's JSON. */
function replyFormat(endpoint: Endpoint, json: Json): { structured: string | null; toolCall: ForcedToolCall | null } {
  const toolCall = endpoint === 'chat' ? forcedToolCall(json) : null;
  const structured = structuredReply(json);
  return { structured: toolCall?.arguments ?? structured, toolCall };
}

/** The strings pydantic's lax mode reads as true. */
const LAX_TRUE_STRINGS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);

/** How many most likely tokens to list per output token; null when no logprobs are asked (checked by checkLogprobs). */
function logprobsOf(endpoint: Endpoint, json: Json): number | null {
  if (endpoint === 'completion') return typeof json.logprobs === 'number' ? json.logprobs : null;
  const lp = json.logprobs;
  const on = lp === true || lp === 1 || (typeof lp === 'string' && LAX_TRUE_STRINGS.has(lp.trim().toLowerCase()));
  return on ? (typeof json.top_logprobs === 'number' ? json.top_logprobs : 0) : null;
}

/** vLLM's chat echo: the last message's content when it is the assistant's (the role the reply has), else ''. */
function trailingAssistantText(messages: unknown): string {
  const last = Array.isArray(messages) ? (messages.at(-1) as unknown) : undefined;
  return isObject(last) && last.role === 'assistant' ? contentText(last.content, 'messages') : '';
}

/**
 * vLLM's SamplingParams checks, with its words: the simulator does not sample, but a client that sends a value
 * vLLM refuses must learn it here, not on the real server.
 */
function checkSampling(json: Record<string, unknown>): void {
  const t = json.temperature;
  if (t !== undefined && t !== null && (typeof t !== 'number' || !(t >= 0))) throw badRequest(`temperature must be non-negative, got ${String(t)}.`, 'temperature');
  const p = json.top_p;
  if (p !== undefined && p !== null && (typeof p !== 'number' || !(p > 0 && p <= 1))) throw badRequest(`top_p must be in (0, 1], got ${String(p)}.`, 'top_p');
  for (const field of ['presence_penalty', 'frequency_penalty']) {
    const v = json[field];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !(v >= -2 && v <= 2))) throw badRequest(`${field} must be in [-2, 2], got ${String(v)}.`, field);
  }
  const r = json.repetition_penalty;
  if (r !== undefined && r !== null && (typeof r !== 'number' || !(r > 0) || !Number.isFinite(r))) {
    throw badRequest(`repetition_penalty must be greater than zero, got ${String(r)}.`, 'repetition_penalty');
  }
  const k = json.top_k;
  // vLLM quietly takes -1 for "disabled", as 0.
  if (k !== undefined && k !== null && (typeof k !== 'number' || !Number.isInteger(k) || k < -1)) {
    throw badRequest(`top_k must be 0 (disable), or at least 1, got ${String(k)}.`, 'top_k');
  }
  const m = json.min_p;
  if (m !== undefined && m !== null && (typeof m !== 'number' || !(m >= 0 && m <= 1))) throw badRequest(`min_p must be in [0, 1], got ${String(m)}.`, 'min_p');
}

/** The strings pydantic's lax mode reads as a boolean (any case), as vLLM's request models are validated. */
const LAX_BOOLEAN_STRINGS = new Set(['0', 'off', 'f', 'false', 'n', 'no', '1', 'on', 't', 'true', 'y', 'yes']);

/**
 * Types vLLM's request models refuse (pydantic, lax): chat's `logprobs` is a boolean (0 and 1, and "true", "no"
 * and the like, are taken as one), `seed` an integer (a whole float or a numeric string is taken). A client sending
 * `logprobs: 3` or `seed: "x"` must learn here what vLLM would answer.
 */
function checkLaxTypes(endpoint: Endpoint, json: Json): void {
  const lp = json.logprobs;
  if (endpoint === 'chat' && lp !== undefined && lp !== null && typeof lp !== 'boolean') {
    const lax = lp === 0 || lp === 1 || (typeof lp === 'string' && LAX_BOOLEAN_STRINGS.has(lp.trim().toLowerCase()));
    if (!lax) throw badRequest(`\`logprobs\` must be a boolean, got ${JSON.stringify(lp)}`, 'logprobs');
  }
  const seed = json.seed;
  if (seed !== undefined && seed !== null) {
    const n = typeof seed === 'string' && /^\s*[+-]?\d+\s*$/.test(seed) ? Number(seed) : seed;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`\`seed\` must be an integer, got ${JSON.stringify(seed)}`, 'seed');
  }
}

/** vLLM's default --max-logprobs: more log probabilities per token than this are refused. */
const MAX_LOGPROBS = 20;

/**
 * vLLM's logprobs checks: chat's `top_logprobs` needs `logprobs: true`; neither a completion's `logprobs` nor
 * chat's `top_logprobs` may exceed the server's max.
 */
function checkLogprobs(endpoint: Endpoint, json: Json): void {
  const field = endpoint === 'chat' ? 'top_logprobs' : 'logprobs';
  const v = json[field];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badRequest(`\`${field}\` must be a positive value.`, field);
  if (endpoint === 'chat' && v > 0 && json.logprobs !== true) throw badRequest('when using `top_logprobs`, `logprobs` must be set to true.', field);
  if (v > MAX_LOGPROBS) throw badRequest(`Requested sample logprobs of ${v}, which is greater than max allowed: ${MAX_LOGPROBS}`, field);
}
