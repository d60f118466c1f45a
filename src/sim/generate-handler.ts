/** Serves one generation request: hands its `n` sequences to the engine and writes tokens back, streamed or whole. */
import type { ServerResponse } from 'node:http';
import type { Engine } from './engine.js';
import type { FailureInjector } from './failure-injection.js';
import type { EngineRequest, FinishReason, GenerationListener, GenerationResult } from './generation.js';
import type { GenerateRequest } from './generate-request.js';
import type { ChoiceResult } from './completion-bodies.js';
import type { ReplyMode } from './reply-text.js';
import type { ServedModels } from './served-models.js';
import type { ToolCallRef } from './completion-bodies.js';
import { completionBody, newResponseContext, newToolCallRef, roleChunk, tokenChunk, toolCallChunk, usageChunk, usageOf } from './completion-bodies.js';
import { sendJson, startEventStream, writeEvent } from './http-io.js';
import { replyTokens } from './reply-text.js';
import { applyStopStrings } from './stop-strings.js';
import { submitAll } from './submit-all.js';
import { chatLogprobs, completionLogprobs } from './token-logprobs.js';
import type { Tokenizer } from './tokenizer.js';
import { badRequest, modelNotFound } from './vllm-error.js';

/** What the handler needs from the simulator. */
export interface GenerateDeps {
  readonly engine: Engine;
  readonly served: ServedModels;
  readonly mode: ReplyMode;
  readonly maxTokensDefault: number;
  /** Prompt + max_tokens may not exceed this (vLLM's max_model_len, never more than the KV cache holds). */
  readonly maxModelLen: number;
  readonly failures: FailureInjector;
  /** Seeds the canned reply of random mode, so `--seed` repeats replies too. */
  readonly random: () => number;
  /** Counts prompt tokens as the engine's KV blocks and `/tokenize` do. */
  readonly tokenizer: Tokenizer;
}

/** The checks every generation runs first: an injected failure, then the model; throws the VllmError to answer. */
export function checkGeneration(model: string, deps: GenerateDeps): void {
  const injected = deps.failures.draw(model);
  if (injected !== null) throw injected;
  if (!deps.served.has(model)) throw modelNotFound(model);
}

/** vLLM's context-length check (serving_engine.py); it also keeps a huge max_tokens from allocating a huge reply. */
export function checkContextLength(promptTokens: number, maxTokens: number | null, maxModelLen: number): void {
  const requested = promptTokens + (maxTokens ?? 0);
  if (requested <= maxModelLen) return;
  throw badRequest(
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${requested} tokens ` +
      `(${promptTokens} in the messages, ${maxTokens ?? 0} in the completion). ` +
      'Please reduce the length of the messages or completion.',
  );
}

/** One sequence for the engine; each call draws its own canned reply in random mode. */
export function engineRequestFor(
  model: string,
  text: { promptText: string; echoText: string; stop?: readonly string[]; includeStopStr?: boolean; cacheSalt?: string | null; structured?: string | null },
  maxTokens: number | null,
  deps: GenerateDeps,
  promptTokens = deps.tokenizer.count(text.promptText),
): EngineRequest & { stoppedBy: string | null } {
  checkContextLength(promptTokens, maxTokens, deps.maxModelLen);
  // Random mode talks until max_tokens (or the default); echo says the input once and stops. A response_format
  // that forces JSON (vLLM's structured outputs) is the JSON, in either mode.
  // The seed is drawn either way, so a structured request does not change the replies of those after it.
  const seed = deps.random();
  const structured = text.structured ?? null;
  const reply = structured !== null ? deps.tokenizer.pieces(structured) : replyTokens(deps.mode, text.echoText, maxTokens ?? deps.maxTokensDefault, seed);
  const { tokens, stoppedBy } = applyStopStrings(reply, text.stop ?? [], maxTokens, text.includeStopStr);
  return {
    lora: deps.served.loraOf(model),
    cacheSalt: text.cacheSalt ?? null,
    promptText: text.promptText,
    promptTokens,
    output: tokens,
    maxTokens,
    stopped: stoppedBy !== null,
    stoppedBy,
  };
}

/** vLLM's `stop_reason`: the stop string that ended a choice, null when it ended otherwise. */
function stopReasonOf(request: { stoppedBy: string | null }, finishReason: FinishReason | null): string | null {
  return finishReason === 'stop' ? request.stoppedBy : null;
}

const NOT_STOPPED = { stoppedBy: null };

/** A forced tool call's finish_reason when its arguments end by themselves (vLLM: `tool_calls` for `required`). */
function finishOf(req: GenerateRequest, finishReason: FinishReason): FinishReason | 'tool_calls' {
  return finishReason === 'stop' && req.toolCall !== null ? req.toolCall.finishReason : finishReason;
}

/** Each choice's tool call (its own id), or nulls when no call is forced. */
function toolCallsOf(req: GenerateRequest, choices: number): (ToolCallRef | null)[] {
  return Array.from({ length: choices }, () => (req.toolCall === null ? null : newToolCallRef(req.toolCall.name)));
}

/**
 * What vLLM's NixlConnector answers a prefill leg (`request_finished`): where the decode side pulls the prompt's
 * blocks from. The ids number the prompt's blocks of vLLM's default size, 16 tokens; no KV moves here.
 */
function kvTransferAnswer(res: ServerResponse, prompt: EngineRequest): Record<string, unknown> {
  const socket = res.socket;
  const host = socket?.localAddress ?? null;
  const port = socket?.localPort ?? null;
  return {
    do_remote_prefill: true,
    do_remote_decode: false,
    remote_block_ids: Array.from({ length: Math.ceil(Math.max(1, prompt.promptTokens) / 16) }, (_, i) => i),
    remote_engine_id: `sim@${host ?? 'local'}:${port ?? 0}`,
    remote_host: host,
    remote_port: port,
    tp_size: 1,
  };
}

/** One choice's engine sequence and what its text starts with. */
type ChoiceSequence = EngineRequest & {
  stoppedBy: string | null;
  /** `echo`: the text the choice starts with (a completion's prompt, chat's trailing assistant message), else ''. */
  echoPrefix: string;
  /** A completion's `echo` with `max_tokens: 0`: vLLM generates one token for usage and answers the prompt alone. */
  echoOnly: boolean;
  /** A completion's `echo` with `logprobs`: the prompt's tokens, listed (the first without a logprob) before the output's. */
  echoTokens: readonly string[];
};

/** The logprobs of a choice's `tokens` from its `position`, in the endpoint's shape; null when not asked. */
function logprobsFor(req: GenerateRequest, sequence: ChoiceSequence, tokens: readonly string[], position: number, textOffset: number): unknown {
  if (req.logprobs === null) return null;
  if (req.endpoint === 'chat') return chatLogprobs(tokens, req.logprobs, position);
  return completionLogprobs(tokens, req.logprobs, position, textOffset, sequence.echoTokens.length);
}

/** Receives every choice's tokens; `listener(i)` is choice i's. */
interface ChoiceSink {
  listener(index: number): GenerationListener;
  /** Called once every sequence is queued, so a 429 can still be a plain JSON answer. */
  start(): void;
}

function streamingSink(req: GenerateRequest, res: ServerResponse, requests: readonly ChoiceSequence[]): ChoiceSink {
  const ctx = newResponseContext(req.endpoint, req.model);
  const choices = requests.length;
  const results = new Array<GenerationResult>(choices);
  const emitted = new Array<boolean>(choices).fill(false);
  const tokens = new Array<number>(choices).fill(0);
  // stream_options.continuous_usage_stats: as vLLM, each chunk carries its prompt and its choice's tokens so far.
  const send = (chunk: Record<string, unknown>, index: number): void => {
    if (req.continuousUsage) {
      const prompt = requests[index]!.promptTokens;
      chunk.usage = { prompt_tokens: prompt, completion_tokens: tokens[index]!, total_tokens: prompt + tokens[index]! };
    }
    writeEvent(res, chunk);
  };
  let left = choices;
  let opened = false;
  // What each choice's text still has to start with: vLLM puts a completion's echoed prompt in front of the first
  // token, and sends chat's echoed message as a chunk of its own after the role chunks.
  const prefixes = requests.map((r) => r.echoPrefix);
  const open = (): void => {
    // Like vLLM's first iteration: a role chunk for every choice before any content.
    if (!opened && ctx.endpoint === 'chat') {
      for (let i = 0; i < choices; i++) send(roleChunk(ctx, i), i);
      for (let i = 0; i < choices; i++) if (prefixes[i] !== '') send(tokenChunk(ctx, prefixes[i]!, null, i), i);
      prefixes.fill('');
    }
    opened = true;
  };
  // Each choice's tokens and characters sent so far: where the next chunk's logprobs start.
  const positions = new Array<number>(choices).fill(0);
  const calls = toolCallsOf(req, choices);
  const offsets = new Array<number>(choices).fill(0);
  const chunk = (index: number, token: string | null, finishReason: FinishReason | null): Record<string, unknown> => {
    const sequence = requests[index]!;
    const echoed = prefixes[index] !== '' && ctx.endpoint === 'completion';
    const generated = token === null || sequence.echoOnly ? [] : [token];
    const listed = echoed ? [...sequence.echoTokens, ...generated] : generated;
    const text = prefixes[index]! + generated.join('');
    prefixes[index] = '';
    const logprobs = logprobsFor(req, sequence, listed, positions[index]!, offsets[index]!);
    const first = positions[index] === 0;
    positions[index]! += listed.length;
    offsets[index]! += text.length;
    const call = calls[index];
    if (call) return toolCallChunk(ctx, call, text, first, finishReason === null ? null : finishOf(req, finishReason), index, logprobs);
    return tokenChunk(ctx, text, finishReason, index, stopReasonOf(sequence, finishReason), logprobs);
  };
  return {
    start: () => startEventStream(res),
    listener: (index) => ({
      onToken(text, _i, finishReason) {
        open();
        emitted[index] = true;
        tokens[index]!++;
        send(chunk(index, text, finishReason), index);
      },
      onFinish(result) {
        open();
        // Nothing was generated for this choice: still send a final chunk with its finish reason.
        if (!emitted[index]) send(chunk(index, null, result.finishReason), index);
        results[index] = result;
        if (--left > 0) return;
        if (req.includeUsage) writeEvent(res, usageChunk(ctx, usageOf(results, req.n)));
        writeEvent(res, '[DONE]');
        res.end();
      },
    }),
  };
}

function wholeSink(req: GenerateRequest, res: ServerResponse, stoppedBy: readonly ChoiceSequence[]): ChoiceSink {
  const ctx = newResponseContext(req.endpoint, req.model);
  const texts = stoppedBy.map((r) => r.echoPrefix);
  const tokens = stoppedBy.map((): string[] => []);
  const calls = toolCallsOf(req, stoppedBy.length);
  const results = new Array<GenerationResult>(stoppedBy.length);
  let left = stoppedBy.length;
  return {
    start: () => {},
    listener: (index) => ({
      onToken(token) {
        if (stoppedBy[index]!.echoOnly) return;
        texts[index] += token;
        tokens[index]!.push(token);
      },
      onFinish(result) {
        results[index] = result;
        if (--left > 0 || res.destroyed) return;
        const choices: ChoiceResult[] = results.map((r, i) => ({
          text: texts[i] ?? '',
          finishReason: finishOf(req, r.finishReason),
          toolCall: calls[i] ?? null,
          stopReason: stopReasonOf(stoppedBy[i] ?? NOT_STOPPED, r.finishReason),
          logprobs: logprobsFor(req, stoppedBy[i]!, [...(req.endpoint === 'completion' ? stoppedBy[i]!.echoTokens : []), ...tokens[i]!], 0, 0),
        }));
        const body = completionBody(ctx, choices, usageOf(results, req.n));
        // A prefill leg of P/D answers where its KV is, for the decode pod to pull (vLLM's NixlConnector).
        if (req.kvTransfer?.remoteDecode === true) body.kv_transfer_params = kvTransferAnswer(res, stoppedBy[0]!);
        sendJson(res, 200, body);
      },
    }),
  };
}

/**
 * One engine request per choice: `n` for a chat; for a completion `n` per prompt, prompt by prompt, so choice
 * `i x n + j` is prompt i's j-th, as vLLM numbers them. Token-id prompts are decoded by the engine's tokenizer
 * and count as many tokens as they have ids.
 */
function engineRequestsFor(req: GenerateRequest, deps: GenerateDeps): ChoiceSequence[] {
  if (req.endpoint === 'chat') {
    return Array.from({ length: req.n }, () => ({ ...engineRequestFor(req.model, req, req.maxTokens, deps), echoPrefix: req.chatEchoPrefix, echoOnly: false, echoTokens: [] }));
  }
  // echo with max_tokens 0: vLLM runs the prompt with max_tokens 1 and answers the prompt alone.
  const echoOnly = req.echo && req.maxTokens === 0;
  const maxTokens = echoOnly ? 1 : req.maxTokens;
  const requests: ChoiceSequence[] = [];
  for (const [i, prompt] of req.prompts.entries()) {
    let text: string;
    try {
      text = typeof prompt === 'string' ? prompt : deps.tokenizer.decode(prompt);
    } catch (err) {
      throw badRequest(`\`prompt${req.prompts.length > 1 ? `[${i}]` : ''}\`: ${(err as Error).message}`, 'prompt');
    }
    const tokens = typeof prompt === 'string' ? undefined : prompt.length;
    // The prompt's tokens as the tokenizer cuts them, listed only when logprobs are asked.
    const echoTokens = req.echo && req.logprobs !== null ? deps.tokenizer.pieces(text) : [];
    const echo = { echoPrefix: req.echo ? text : '', echoOnly, echoTokens };
    for (let j = 0; j < req.n; j++) requests.push({ ...engineRequestFor(req.model, { ...req, promptText: text, echoText: text }, maxTokens, deps, tokens), ...echo });
  }
  return requests;
}

/** Throws a VllmError (injected failure, unknown model, too long, queue full); otherwise answers through `res`. */
export function handleGenerate(req: GenerateRequest, res: ServerResponse, deps: GenerateDeps): void {
  checkGeneration(req.model, deps);
  const requests = req.kvTransfer?.remotePrefill === true ? engineRequestsFor(req, deps).map((r) => ({ ...r, remotePrefilled: true })) : engineRequestsFor(req, deps);
  if (res.destroyed) return; // the client left while we read its body
  const sink = req.stream ? streamingSink(req, res, requests) : wholeSink(req, res, requests);
  submitAll(deps.engine, requests, (i) => sink.listener(i), res);
  sink.start();
}
