/**
 * Asks a vLLM server for a prompt's token ids: `POST /v1/chat/completions/render` for a chat (the chat template
 * applied, as llm-d's token-producer does), else vLLM's `POST /tokenize` (a completion's prompt, or a chat's
 * messages where the server has no render endpoint). Bounded in time and size; fails with a reason, never hangs.
 */
import { request, type Dispatcher } from 'undici';
import { OriginClients } from '../../upstream/origin-clients.js';

export const CHAT_RENDER_PATH = '/v1/chat/completions/render';
export const TOKENIZE_PATH = '/tokenize';
/** What vLLM's `/tokenize` reads of a chat besides its messages (it would log every other field as ignored). */
const TOKENIZE_CHAT_FIELDS = ['model', 'messages', 'tools', 'documents', 'chat_template', 'chat_template_kwargs', 'add_generation_prompt', 'continue_final_message', 'add_special_tokens', 'mm_processor_kwargs'] as const;
/** A token list this long is not a prompt the gateway can use (and not worth holding). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const TWO_32 = 2 ** 32;

/** What to ask: a chat's messages or a completion's prompt, for `model`. */
export type TokenizeInput =
  | {
      kind: 'chat';
      model: string;
      messages: readonly unknown[];
      /** Fields that change the rendering: tools, chat_template, ... (for a whole request, every field it has) */
      extra?: Readonly<Record<string, unknown>>;
      /** The whole request, rendered as the engine will (its generation prompt included); else a prefix of it. */
      whole?: boolean;
    }
  | { kind: 'completion'; model: string; prompt: string; /** The request's own `add_special_tokens` (vLLM's default true). */ addSpecialTokens?: boolean };

/**
 * A call that did not give tokens; `notFound` marks an endpoint the server does not have (try another path), not a
 * 404 the endpoint itself answered (an unknown model).
 */
export class TokenizeError extends Error {
  readonly notFound: boolean;
  constructor(message: string, notFound = false) {
    super(message);
    this.name = 'TokenizeError';
    this.notFound = notFound;
  }
}

export class RenderClient {
  /** Up to 4 connections a pod, kept while the pod is asked (src/upstream/origin-clients.ts says why not an Agent). */
  readonly #clients = new OriginClients({ connections: 4, keepAliveTimeoutMs: 10_000 });

  /**
   * The token ids of `input` from the server at `origin` (`http://ip:port`). A chat uses render, falling back to
   * `/tokenize` with the messages when `useRender` is false or the server answers 404/405 (then `renderMissing`).
   */
  async tokenize(origin: string, input: TokenizeInput, opts: { timeoutMs: number; headers?: Readonly<Record<string, string>>; h2c?: boolean; useRender: boolean; renderMissing?: () => void }): Promise<Uint32Array> {
    const dispatcher = this.#clients.of(origin, opts.h2c === true);
    if (input.kind === 'chat') {
      // A whole request renders as the engine will (the server's defaults where the request is silent); a prefix is
      // the conversation so far without the assistant's turn opening: the start of every later rendering.
      const chat = input.whole === true
        ? { ...input.extra, model: input.model, messages: input.messages }
        : { ...input.extra, model: input.model, messages: input.messages, add_generation_prompt: false, continue_final_message: false };
      if (opts.useRender) {
        try {
          return await post(dispatcher, origin, CHAT_RENDER_PATH, chat, opts);
        } catch (e) {
          if (!(e instanceof TokenizeError) || !e.notFound) throw e;
          opts.renderMissing?.();
        }
      }
      const tokenize: Record<string, unknown> = {};
      for (const f of TOKENIZE_CHAT_FIELDS) if ((chat as Record<string, unknown>)[f] !== undefined) tokenize[f] = (chat as Record<string, unknown>)[f];
      return post(dispatcher, origin, TOKENIZE_PATH, tokenize, opts);
    }
    return post(dispatcher, origin, TOKENIZE_PATH, { model: input.model, prompt: input.prompt, add_special_tokens: input.addSpecialTokens ?? true }, opts);
  }

  async close(): Promise<void> {
    await this.#clients.close();
  }
}

async function post(dispatcher: Dispatcher, origin: string, path: string, body: unknown, opts: { timeoutMs: number; headers?: Readonly<Record<string, string>> }): Promise<Uint32Array> {
  const res = await request(`${origin}${path}`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify(body),
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  const declared = Number(res.headers['content-length'] ?? 0);
  if (declared > MAX_RESPONSE_BYTES) {
    res.body.destroy();
    throw new TokenizeError(`${path} answered ${declared} bytes, over the ${MAX_RESPONSE_BYTES}-byte limit`);
  }
  const text = await res.body.text();
  if (res.statusCode === 405 || (res.statusCode === 404 && !isErrorBody(text))) throw new TokenizeError(`${path} answered ${res.statusCode}`, true);
  if (res.statusCode !== 200) throw new TokenizeError(`${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
  return tokenIds(text, path);
}

/**
 * Whether a 404 is vLLM's own error answer (`{"error": {...}}`, or before vLLM 0.10.1 `{"object": "error", ...}`):
 * "The model `x` does not exist." comes with 404 from a server that has the path. A path the server lacks gets
 * its web framework's 404 (`{"detail": "Not Found"}`) instead.
 */
function isErrorBody(text: string): boolean {
  try {
    const json = JSON.parse(text) as Record<string, unknown> | null;
    return typeof json === 'object' && json !== null && (typeof json.error === 'object' || json.object === 'error');
  } catch {
    return false;
  }
}

/** `token_ids` (render), `tokens` (/tokenize) or `prompt_token_ids`, or the first of a list of such objects. */
function tokenIds(text: string, path: string): Uint32Array {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TokenizeError(`${path} answered something that is not JSON`);
  }
  const obj = (Array.isArray(json) ? json[0] : json) as Record<string, unknown> | undefined;
  const ids = obj?.token_ids ?? obj?.tokens ?? obj?.prompt_token_ids;
  if (!Array.isArray(ids)) throw new TokenizeError(`${path} answered no token_ids or tokens list`);
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as unknown;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= TWO_32) throw new TokenizeError(`${path} answered a token id that is not a 32-bit unsigned integer`);
    out[i] = id;
  }
  return out;
}
