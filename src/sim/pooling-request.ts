/**
 * Validates the bodies of vLLM's pooling endpoints (`/v1/embeddings`, `/pooling`, `/classify`): the model and
 * a list of input texts, given as text, as token ids, or as chat messages.
 */
import type { Json } from './request-fields.js';
import type { Tokenizer } from './tokenizer.js';
import { chatText, checkChatTemplateFlags, objectBody, optionalEnum, optionalInteger, requiredModel } from './request-fields.js';
import { badRequest } from './vllm-error.js';

/** One input to pool: its text (token ids are decoded) and its length in tokens. */
export interface PoolingInput {
  readonly text: string;
  readonly tokens: number;
}

export type EncodingFormat = 'float' | 'base64';

export interface PoolingRequest {
  readonly model: string;
  readonly inputs: readonly PoolingInput[];
  readonly encodingFormat: EncodingFormat;
  /** Matryoshka-style output size asked for; null for the model's own. */
  readonly dimensions: number | null;
}

function isTokenIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0);
}

function fromIds(ids: number[], tokenizer: Tokenizer, field: string): PoolingInput {
  try {
    return { text: tokenizer.decode(ids), tokens: ids.length };
  } catch (err) {
    throw badRequest(`\`${field}\`: ${(err as Error).message}`, 'input');
  }
}

/** `input` as OpenAI and vLLM take it: a string, strings, token ids, or lists of token ids. */
function inputsOf(input: unknown, tokenizer: Tokenizer): PoolingInput[] {
  const text = (t: string): PoolingInput => ({ text: t, tokens: tokenizer.count(t) });
  if (typeof input === 'string') return [text(input)];
  if (isTokenIds(input)) return [fromIds(input, tokenizer, 'input')];
  if (Array.isArray(input) && input.length > 0) {
    if (input.every((x) => typeof x === 'string')) return input.map(text);
    if (input.every(isTokenIds)) return input.map((ids, i) => fromIds(ids, tokenizer, `input[${i}]`));
  }
  throw badRequest(
    '`input` must be a string, a non-empty array of strings, an array of token ids or a non-empty array of arrays of token ids',
    'input',
  );
}

/** The inputs of a body that has `input`, or (vLLM's chat form) `messages` pooled as one text. */
function inputsOrMessages(body: Json, tokenizer: Tokenizer): PoolingInput[] {
  if (body.input === undefined && body.messages !== undefined) {
    checkChatTemplateFlags(body);
    const { promptText } = chatText(body.messages);
    return [{ text: promptText, tokens: tokenizer.count(promptText) }];
  }
  return inputsOf(body.input, tokenizer);
}

/** Validates a parsed body; throws a 400 VllmError naming the offending field. */
export function parsePoolingRequest(body: unknown, tokenizer: Tokenizer): PoolingRequest {
  const json = objectBody(body);
  return {
    model: requiredModel(json),
    inputs: inputsOrMessages(json, tokenizer),
    encodingFormat: optionalEnum(json, 'encoding_format', ['float', 'base64'] as const, 'float'),
    dimensions: optionalInteger(json, 'dimensions', 1),
  };
}
