/**
 * `token-producer` (llm-d's DataProducer of the same type): the request's token ids, for precise prefix scoring.
 * They come from a vLLM server of the pool (`POST /v1/chat/completions/render` for a chat, `POST /tokenize` for a
 * completion), or from `vllm.url` when set. As in llm-d, the whole request is rendered, once per request, so the
 * keys cover every block the engine will hash, the last message's too (a pod that served the same prompt holds
 * them; a prefix alone cannot see them). The shared prefix (a chat's messages before the last one, a completion's
 * prompt up to its last blank line) is also cached, tokenized once: it is what a request is scored on when its
 * render comes later than `produceTimeout` or fails, and what a caller that does not wait gets at once. Past the
 * wait with neither, the request is scored on the approximate view.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { DataProducer, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import type { PluginRuntime, RuntimePlugin } from '../plugin-runtime.js';
import type { TokenizeInput } from './render-client.js';
import { TokenCache } from './token-cache.js';
import { TOKENIZED_PROMPT_KEY, TokenizedPrompt } from './tokenized-prompt.js';

export const TOKEN_PRODUCER_TYPE = 'token-producer';
/** llm-d's former name, still accepted there with a deprecation warning. */
export const LEGACY_TOKENIZER_TYPE = 'tokenizer';

export interface TokenProducerParams {
  /** `modelName`: the model sent to the tokenizer; default the request's own model. */
  modelName: string;
  /** `vllm.url`: a render server to ask (a sidecar or Service); default a pod of the pool being scheduled. */
  url: string;
  /** `vllm.timeout`: how long a tokenizer call may take in all (ms), default 5 s as llm-d. */
  timeoutMs: number;
  /** `produceTimeout`: how long a request waits for its tokens (ms), default 100 ms. */
  produceTimeoutMs: number;
  /** `cacheTokens`: tokens the prefix cache holds at most, default 4,000,000 (~16 MB). */
  cacheTokens: number;
  /** `maxPrefixChars`: a longer prompt (or prefix) is not tokenized (the approximate view scores it), default 262,144. */
  maxPrefixChars: number;
  /** `wholePrompt`: render every request whole (default, as llm-d); false tokenizes only the cached prefix. */
  wholePrompt: boolean;
}

export const DEFAULT_TOKEN_PRODUCER_PARAMS: TokenProducerParams = {
  modelName: '',
  url: '',
  timeoutMs: 5000,
  produceTimeoutMs: 100,
  cacheTokens: 4_000_000,
  maxPrefixChars: 262_144,
  wholePrompt: true,
};

/** Prefixes the cache key of the last whole render after a prefix (a character no prompt begins with in practice). */
const LATEST = '\u0005';

/** After a server answers 404 to render, chats use /tokenize there for this long before render is tried again. */
const RENDER_RETRY_MS = 5 * 60_000;

/** Fields of a chat request that change how it renders (the template, the tools it lists). */
const RENDER_FIELDS = ['tools', 'documents', 'chat_template', 'chat_template_kwargs'] as const;

export class TokenProducer implements DataProducer, RuntimePlugin {
  readonly type: string;
  readonly name: string;
  readonly produces = TOKENIZED_PROMPT_KEY;
  readonly params: TokenProducerParams;
  readonly cache: TokenCache;
  #runtime: PluginRuntime | undefined;
  #next = 0;
  #renderMissingUntil = 0;
  /** Whole-request renders on their way, by model and prompt: a burst of the same request shares one call. */
  readonly #inflight = new Map<string, Promise<TokenizedPrompt | undefined>>();
  /** Tokenizer calls made, whole requests and prefixes (metrics, tests, benchmarks). */
  calls = 0;
  /** Tokenizer calls that failed (metrics, tests). */
  failures = 0;

  constructor(name: string = TOKEN_PRODUCER_TYPE, params: Partial<TokenProducerParams> = {}, type: string = TOKEN_PRODUCER_TYPE) {
    this.name = name;
    this.type = type;
    this.params = { ...DEFAULT_TOKEN_PRODUCER_PARAMS, ...params };
    this.cache = new TokenCache(this.params.cacheTokens);
  }

  bindRuntime(runtime: PluginRuntime): void {
    this.#runtime = runtime;
  }

  produce(ctx: SchedulingContext, endpoints: readonly Endpoint[], wait: boolean): Promise<void> | void {
    const body = ctx.request.body;
    const model = this.params.modelName || ctx.request.model;
    if (!body || !model) return;
    const prefix = prefixOf(body, model, this.params.maxPrefixChars);
    if (prefix && 'tokens' in prefix) return void ctx.state.write(TOKENIZED_PROMPT_KEY, new TokenizedPrompt(prefix.tokens, salt(body)));
    // Nobody waits for a render that is new on every request (explain): the cached prefix is all there is.
    const whole = wait && this.params.wholePrompt ? wholeOf(body, model, this.params.maxPrefixChars) : undefined;
    if (!whole) return this.#fromPrefix(ctx, body, model, endpoints, prefix, wait);
    const runtime = this.#runtime;
    const ep = this.#server(endpoints);
    if (!runtime || (this.params.url === '' && !ep)) return;
    const id = `${model}\u0000${whole.key}`;
    let got = this.#inflight.get(id);
    if (!got) {
      const latest = prefix ? LATEST + prefix.key : undefined;
      got = this.#fetch(runtime, whole.input, ep)
        .then((tokens) => tokens && this.#rendered(model, latest, tokens))
        .finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, got);
    }
    return withTimeout(got, this.params.produceTimeoutMs).then((tp) => {
      if (tp) return this.#use(ctx, tp, body);
      // Late or failed: the shared prefix's tokens when cached (asked for now if not, for the next late one).
      this.#fromPrefix(ctx, body, model, endpoints, prefix, false);
    });
  }

  /** The request scored on its cached prefix's tokens; a prefix not cached yet is asked for (and waited for when `wait`). */
  #fromPrefix(
    ctx: SchedulingContext,
    body: Readonly<Record<string, unknown>>,
    model: string,
    endpoints: readonly Endpoint[],
    found: { input: TokenizeInput; key: string } | undefined,
    wait: boolean,
  ): Promise<void> | void {
    if (!found) return;
    let got = this.cache.get(model, found.key);
    if (got === undefined) {
      const runtime = this.#runtime;
      const ep = this.#server(endpoints);
      // Without a runtime (explain, validate) nobody is asked; without a pod to ask, neither.
      if (!runtime || (this.params.url === '' && !ep)) return;
      got = this.cache.fill(model, found.key, () => this.#fetch(runtime, found.input, ep).then((tokens) => tokens && new TokenizedPrompt(tokens)));
    }
    if (!(got instanceof Promise)) return this.#use(ctx, got, body);
    if (!wait) return;
    return withTimeout(got, this.params.produceTimeoutMs).then((tp) => {
      if (tp) this.#use(ctx, tp, body);
    });
  }

  /**
   * A whole request's tokens, keyed after the last render of the same prefix (its blocks are hashed once) and kept
   * as that for the next one: one entry per prefix in the cache, whatever the number of questions asked after it.
   */
  #rendered(model: string, latest: string | undefined, tokens: Uint32Array): TokenizedPrompt {
    if (latest === undefined) return new TokenizedPrompt(tokens);
    const tp = new TokenizedPrompt(tokens, '', this.cache.peek(model, latest));
    this.cache.put(model, latest, tp);
    return tp;
  }

  /** The pod to ask (rotating over the candidates), or undefined when `vllm.url` names the server. */
  #server(endpoints: readonly Endpoint[]): Endpoint | undefined {
    return this.params.url === '' ? endpoints[this.#next++ % Math.max(1, endpoints.length)] : undefined;
  }

  #use(ctx: SchedulingContext, tp: TokenizedPrompt, body: Readonly<Record<string, unknown>>): void {
    const s = salt(body);
    // The cached tokens are shared; a salted request gets its own keys (salts are per tenant, rarely repeated).
    ctx.state.write(TOKENIZED_PROMPT_KEY, s === '' ? tp : new TokenizedPrompt(tp.tokens, s));
  }

  async #fetch(runtime: PluginRuntime, input: TokenizeInput, ep: Endpoint | undefined): Promise<Uint32Array | undefined> {
    const origin = ep ? ep.origin : this.params.url.replace(/\/+$/, '');
    this.calls++;
    try {
      const tokens = await runtime.render.tokenize(origin, input, {
        timeoutMs: this.params.timeoutMs,
        useRender: Date.now() >= this.#renderMissingUntil,
        renderMissing: () => {
          this.#renderMissingUntil = Date.now() + RENDER_RETRY_MS;
        },
        ...(ep ? { h2c: ep.h2c } : {}),
        ...(ep && runtime.headersFor(ep) ? { headers: runtime.headersFor(ep)! } : {}),
      });
      return tokens;
    } catch (e) {
      // Logged at debug: a tokenizer that fails on every request would otherwise write a line per request.
      if (this.failures++ === 0) runtime.log.warn(`${this.type} ${this.name}: tokenizing at ${origin} failed; requests are scored on their prefix's cached tokens, or else on the approximate prefix view, until it works (further failures at debug level)`, { error: (e as Error).message });
      else runtime.log.debug(`${this.type} ${this.name}: tokenizing failed`, { origin, error: (e as Error).message });
      return undefined;
    }
  }
}

/** The cacheable prefix of a request: what to tokenize and the cache key, or ids the client sent itself. */
export function prefixOf(body: Readonly<Record<string, unknown>>, model: string, maxChars: number): { input: TokenizeInput; key: string } | { tokens: Uint32Array } | undefined {
  const messages = body.messages;
  if (Array.isArray(messages) && messages.length > 0) {
    const prefix = messages.length > 1 ? messages.slice(0, -1) : messages;
    const key = messagesKey(prefix, maxChars);
    if (key === undefined) return undefined;
    const { extra, key: extraKey } = fieldsOf(body, RENDER_FIELDS);
    return { input: { kind: 'chat', model, messages: prefix, extra }, key: key + extraKey };
  }
  const prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) < 2 ** 32)) {
    return { tokens: Uint32Array.from(prompt as number[]) };
  }
  const text = promptText(prompt);
  if (text === undefined) return undefined;
  // Up to the last blank line (a system prompt, then the question): requests of one group share that part.
  const cut = text.lastIndexOf('\n\n');
  const prefix = cut > 0 ? text.slice(0, cut + 2) : text;
  if (prefix.length > maxChars) return undefined;
  return { input: { kind: 'completion', model, prompt: prefix }, key: prefix };
}

/**
 * The whole request as the engine will tokenize it: a chat as sent (every field but `stream` and `stream_options`,
 * as llm-d forwards it: a template may read any of them, `reasoning_effort` say), or the whole prompt of a
 * completion (the first of a batch); `key` names it for sharing a call in flight. Undefined when there is nothing to
 * render, or more than `maxChars` of it.
 */
export function wholeOf(body: Readonly<Record<string, unknown>>, model: string, maxChars: number): { input: TokenizeInput; key: string } | undefined {
  const messages = body.messages;
  if (Array.isArray(messages) && messages.length > 0) {
    const key = messagesKey(messages, maxChars);
    if (key === undefined) return undefined;
    const { messages: _messages, model: _model, stream: _stream, stream_options: _streamOptions, ...extra } = body;
    return { input: { kind: 'chat', model, messages, extra, whole: true }, key: `${key}\u0003${JSON.stringify(extra)}` };
  }
  const text = promptText(body.prompt);
  if (text === undefined || text.length > maxChars) return undefined;
  const special = body.add_special_tokens;
  return { input: { kind: 'completion', model, prompt: text, ...(typeof special === 'boolean' ? { addSpecialTokens: special } : {}) }, key: typeof special === 'boolean' ? `${text}\u0003${special}` : text };
}

/** A key naming `messages` (role, content, any other field), or undefined when over `maxChars` or not messages. */
function messagesKey(messages: readonly unknown[], maxChars: number): string | undefined {
  let key = '';
  for (const m of messages) {
    if (typeof m !== 'object' || m === null) return undefined;
    const { role, content, ...rest } = m as Record<string, unknown>;
    key += `${String(role)}\u0001${typeof content === 'string' ? content : JSON.stringify(content ?? null)}${Object.keys(rest).length > 0 ? `\u0001${JSON.stringify(rest)}` : ''}\u0002`;
    if (key.length > maxChars) return undefined;
  }
  return key;
}

/** The request's `fields` that it sets, to send along, and their part of the key. */
function fieldsOf(body: Readonly<Record<string, unknown>>, fields: readonly string[]): { extra: Record<string, unknown>; key: string } {
  const extra: Record<string, unknown> = {};
  let key = '';
  for (const f of fields) {
    if (body[f] === undefined) continue;
    extra[f] = body[f];
    key += `\u0003${f}=${JSON.stringify(body[f])}`;
  }
  return { extra, key };
}

/** A completion's prompt text (the first of a batch); undefined when it has none. */
function promptText(prompt: unknown): string | undefined {
  const text = typeof prompt === 'string' ? prompt : Array.isArray(prompt) && typeof prompt[0] === 'string' ? prompt[0] : undefined;
  return text === '' ? undefined : text;
}

function salt(body: Readonly<Record<string, unknown>>): string {
  return typeof body.cache_salt === 'string' ? body.cache_salt : '';
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/**
 * Parameters, by llm-d's names: `modelName`, `vllm: {url, timeout, mmTimeout}` (llm-d's older `vllm.http` is read
 * as `url`); infergate's own: `produceTimeout` (default "100ms"), `cacheTokens`, `maxPrefixChars`, `wholePrompt`. llm-d's
 * `udsTokenizerConfig` and `estimate` backends are refused: the UDS sidecar is deprecated there, and estimated ids
 * never match the engine's blocks.
 */
export const tokenProducerFactory: PluginFactory = (name, _p, r) => buildTokenProducer(name, r, TOKEN_PRODUCER_TYPE);

export const legacyTokenizerFactory: PluginFactory = (name, _p, r) => {
  r.warn(`type ${LEGACY_TOKENIZER_TYPE} is deprecated (as in llm-d); use ${TOKEN_PRODUCER_TYPE}`);
  return buildTokenProducer(name, r, LEGACY_TOKENIZER_TYPE);
};

function buildTokenProducer(name: string, r: Parameters<PluginFactory>[2], type: string): TokenProducer {
  const modelName = r.string('modelName', '');
  if (r.has('udsTokenizerConfig')) r.fail('udsTokenizerConfig', 'is not supported (llm-d deprecated it too): leave it out to tokenize on a pod of the pool, or set vllm.url');
  if (r.has('estimate')) r.fail('estimate', 'is not supported: estimated token ids never match the blocks the engine reports; leave it out to tokenize on a pod of the pool');
  const v = r.child('vllm');
  const url = v.has('url') ? v.string('url', '') : v.string('http', '');
  if (url !== '' && !/^https?:\/\/[^/]+/.test(url)) v.fail(v.has('url') ? 'url' : 'http', `must be a base URL such as http://localhost:8000, got ${JSON.stringify(url)}`);
  if (url !== '' && modelName === '') {
    // llm-d refuses this; here the request's own model is sent, which a render server started for the base model
    // alone (vLLM's `launch render`) answers with 404 for every adapter.
    r.warn(`parameters.modelName is not set with vllm.url: each request is rendered under its own model name, and ${url} must serve every adapter too; set modelName to the base model (llm-d requires it)`);
  }
  const timeoutMs = v.durationMs('timeout', DEFAULT_TOKEN_PRODUCER_PARAMS.timeoutMs);
  v.ignored('mmTimeout', 'multimodal prompts are not tokenized here');
  const produceTimeoutMs = r.durationMs('produceTimeout', DEFAULT_TOKEN_PRODUCER_PARAMS.produceTimeoutMs);
  const cacheTokens = r.positiveInt('cacheTokens', DEFAULT_TOKEN_PRODUCER_PARAMS.cacheTokens);
  const maxPrefixChars = r.positiveInt('maxPrefixChars', DEFAULT_TOKEN_PRODUCER_PARAMS.maxPrefixChars);
  const wholePrompt = r.boolean('wholePrompt', DEFAULT_TOKEN_PRODUCER_PARAMS.wholePrompt);
  return new TokenProducer(name, { modelName, url, timeoutMs: Math.max(1, timeoutMs), produceTimeoutMs, cacheTokens, maxPrefixChars, wholePrompt }, type);
}
