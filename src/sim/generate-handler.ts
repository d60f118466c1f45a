/** Serves one generation request: hands it to the engine and writes tokens back, streamed or whole. */
import type { ServerResponse } from 'node:http';
import type { Engine } from './engine.js';
import type { FailureInjector } from './failure-injection.js';
import type { EngineRequest, GenerationListener } from './generation.js';
import type { GenerateRequest } from './generate-request.js';
import type { ReplyMode } from './reply-text.js';
import type { ServedModels } from './served-models.js';
import { completionBody, newResponseContext, roleChunk, tokenChunk, usageChunk } from './completion-bodies.js';
import { sendJson, startEventStream, writeEvent } from './http-io.js';
import { replyTokens } from './reply-text.js';
import { estimateTokens } from './token-estimate.js';
import { VllmError, badRequest, modelNotFound } from './vllm-error.js';

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
}

function toEngineRequest(req: GenerateRequest, deps: GenerateDeps): EngineRequest {
  const promptTokens = estimateTokens(req.promptText);
  const requested = promptTokens + (req.maxTokens ?? 0);
  // vLLM's context-length check (serving_engine.py); it also keeps a huge max_tokens from allocating a huge reply.
  if (requested > deps.maxModelLen) {
    throw badRequest(
      `This model's maximum context length is ${deps.maxModelLen} tokens. However, you requested ${requested} tokens ` +
        `(${promptTokens} in the messages, ${req.maxTokens ?? 0} in the completion). ` +
        'Please reduce the length of the messages or completion.',
    );
  }
  return {
    lora: req.model === deps.served.model ? null : req.model,
    promptText: req.promptText,
    promptTokens,
    // Random mode talks until max_tokens (or the default); echo says the input once and stops.
    output: replyTokens(deps.mode, req.echoText, req.maxTokens ?? deps.maxTokensDefault, deps.random()),
    maxTokens: req.maxTokens,
  };
}

function streamingListener(req: GenerateRequest, res: ServerResponse): GenerationListener {
  const ctx = newResponseContext(req.endpoint, req.model);
  startEventStream(res);
  let opened = false;
  const open = (): void => {
    if (!opened && ctx.endpoint === 'chat') writeEvent(res, roleChunk(ctx));
    opened = true;
  };
  return {
    onToken(text, _index, finishReason) {
      open();
      writeEvent(res, tokenChunk(ctx, text, finishReason));
    },
    onFinish(result) {
      if (!opened) {
        // Nothing was generated: still send the role and a final chunk with the finish reason.
        open();
        writeEvent(res, tokenChunk(ctx, '', result.finishReason));
      }
      if (req.includeUsage) writeEvent(res, usageChunk(ctx, result));
      writeEvent(res, '[DONE]');
      res.end();
    },
  };
}

function wholeListener(req: GenerateRequest, res: ServerResponse): GenerationListener {
  const ctx = newResponseContext(req.endpoint, req.model);
  let text = '';
  return {
    onToken(token) {
      text += token;
    },
    onFinish(result) {
      if (!res.destroyed) sendJson(res, 200, completionBody(ctx, text, result));
    },
  };
}

/** Throws a VllmError (injected failure, unknown model, too long, queue full); otherwise answers through `res`. */
export function handleGenerate(req: GenerateRequest, res: ServerResponse, deps: GenerateDeps): void {
  const injected = deps.failures.draw(req.model);
  if (injected !== null) throw injected;
  if (!deps.served.has(req.model)) throw modelNotFound(req.model);
  const engineRequest = toEngineRequest(req, deps);
  if (res.destroyed) return; // the client left while we read its body
  // Checked before the stream opens, so a full queue is a plain 429, not a broken stream.
  if (deps.engine.queueFull) {
    throw new VllmError(429, 'The server is busy: its waiting queue is full. Retry later or on another replica.');
  }
  const listener = req.stream ? streamingListener(req, res) : wholeListener(req, res);
  const generation = deps.engine.submit(engineRequest, listener);
  // A client that disconnects takes its request out of the queue or frees its running slot.
  res.on('close', () => {
    if (!res.writableEnded) generation.abort();
  });
}
