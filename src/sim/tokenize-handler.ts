/**
 * vLLM's `POST /tokenize` and `POST /detokenize` on the simulator, with its deterministic tokenizer: the count
 * `/tokenize` gives for a prompt (or a chat's messages) is the `usage.prompt_tokens` generation reports for it.
 */
import type { ServerResponse } from 'node:http';
import type { ServedModels } from './served-models.js';
import type { Json } from './request-fields.js';
import type { Tokenizer } from './tokenizer.js';
import { sendJson } from './http-io.js';
import { chatText, checkChatTemplateFlags, objectBody, optionalBoolean, optionalModel } from './request-fields.js';
import { badRequest, modelNotFound } from './vllm-error.js';

export interface TokenizeDeps {
  readonly served: ServedModels;
  readonly tokenizer: Tokenizer;
  readonly maxModelLen: number;
}

/** vLLM's model check, except that (as in vLLM) the model may be left out. */
function checkModel(body: Json, served: ServedModels): void {
  const model = optionalModel(body);
  if (model !== null && !served.has(model)) throw modelNotFound(model);
}

/** The text a tokenize body stands for: `prompt`, or the messages joined as generation joins them. */
function textOf(body: Json): string {
  if (typeof body.prompt === 'string') {
    optionalBoolean(body, 'add_special_tokens');
    return body.prompt;
  }
  if (body.prompt === undefined && body.messages !== undefined) {
    checkChatTemplateFlags(body);
    return chatText(body.messages).promptText;
  }
  throw badRequest('send `prompt` (a string) or `messages` (a chat) to tokenize', 'prompt');
}

/** `{count, max_model_len, tokens, token_strs}`; `token_strs` is null unless `return_token_strs` is true. */
export function handleTokenize(body: unknown, res: ServerResponse, deps: TokenizeDeps): void {
  const json = objectBody(body);
  checkModel(json, deps.served);
  const text = textOf(json);
  const tokens = deps.tokenizer.encode(text);
  const tokenStrs = optionalBoolean(json, 'return_token_strs') ? deps.tokenizer.pieces(text) : null;
  sendJson(res, 200, { count: tokens.length, max_model_len: deps.maxModelLen, tokens, token_strs: tokenStrs });
}

/** `{prompt}`: the text of the given token ids; a 400 naming the first id the tokenizer cannot decode. */
export function handleDetokenize(body: unknown, res: ServerResponse, deps: TokenizeDeps): void {
  const json = objectBody(body);
  checkModel(json, deps.served);
  const ids = json.tokens;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number' && Number.isInteger(id))) {
    throw badRequest('`tokens` must be an array of integer token ids', 'tokens');
  }
  let prompt: string;
  try {
    prompt = deps.tokenizer.decode(ids as number[]);
  } catch (err) {
    throw badRequest((err as Error).message, 'tokens');
  }
  sendJson(res, 200, { prompt });
}
