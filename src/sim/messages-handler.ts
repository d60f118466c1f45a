/**
 * The Anthropic Messages API on the simulator, as vLLM serves it beside OpenAI's (vllm/entrypoints/anthropic):
 * `POST /v1/messages`, whole or streamed as Anthropic's named events, through the same engine as chat, and
 * `POST /v1/messages/count_tokens`.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { GenerateDeps } from './generate-handler.js';
import type { FinishReason, GenerationListener, GenerationResult } from './generation.js';
import { checkGeneration, engineRequestFor } from './generate-handler.js';
import { sendJson, startEventStream, writeEvent, writeNamedEvent } from './http-io.js';
import { parseMessagesRequest } from './messages-request.js';
import { submitAll } from './submit-all.js';
import { AnthropicShapedError, VllmError, modelNotFound } from './vllm-error.js';

/** vLLM's map from chat's finish_reason to the Messages API's stop_reason (a stop sequence ends a turn too). */
const STOP_REASON: Readonly<Record<FinishReason, string>> = { stop: 'end_turn', length: 'max_tokens' };

/** What vLLM's handler throws comes in Anthropic's shape; anything else (a bug) is left to the router. */
function anthropicShaped<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw err instanceof VllmError && !(err instanceof AnthropicShapedError) ? new AnthropicShapedError(err) : err;
  }
}

function usageOf(result: GenerationResult): { input_tokens: number; output_tokens: number } {
  return { input_tokens: result.promptTokens, output_tokens: result.completionTokens };
}

/** `POST /v1/messages`. Throws a VllmError before anything is sent; afterwards answers through `res`. */
export function handleCreateMessage(body: unknown, res: ServerResponse, deps: GenerateDeps): void {
  const req = parseMessagesRequest(body);
  // vLLM's messages are chat completions underneath: the id is the chat completion's.
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const engineRequest = anthropicShaped(() => {
    checkGeneration(req.model, deps);
    return engineRequestFor(req.model, { promptText: req.promptText, echoText: req.echoText, stop: req.stopSequences }, req.maxTokens, deps);
  });
  if (res.destroyed) return;
  let text = '';
  let started = false;
  const event = (type: string, data: Record<string, unknown>): void => writeNamedEvent(res, type, { type, ...data });
  // Sent with the first token, as vLLM sends it with chat's first chunk, after the prefill.
  const start = (): void => {
    if (started) return;
    started = true;
    const message = { id, type: 'message', role: 'assistant', content: [], model: req.model, stop_reason: null, stop_sequence: null };
    event('message_start', { message: { ...message, usage: { input_tokens: engineRequest.promptTokens, output_tokens: 0 } } });
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  };
  const listener: GenerationListener = req.stream
    ? {
        onToken(token) {
          start();
          event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: token } });
        },
        onFinish(result) {
          start();
          event('content_block_stop', { index: 0 });
          event('message_delta', { delta: { stop_reason: STOP_REASON[result.finishReason], stop_sequence: null }, usage: usageOf(result) });
          event('message_stop', {});
          // vLLM ends the stream as chat's, after message_stop; the Anthropic SDKs skip an unnamed event.
          writeEvent(res, '[DONE]');
          res.end();
        },
      }
    : {
        onToken(token) {
          text += token;
        },
        onFinish(result) {
          if (res.destroyed) return;
          sendJson(res, 200, {
            id,
            type: 'message',
            role: 'assistant',
            content: [{ type: 'text', text }],
            model: req.model,
            stop_reason: STOP_REASON[result.finishReason],
            usage: usageOf(result),
          });
        },
      };
  anthropicShaped(() => submitAll(deps.engine, [engineRequest], () => listener, res));
  if (req.stream) startEventStream(res);
}

/** `POST /v1/messages/count_tokens`: the prompt's tokens, as `/tokenize` counts a chat's. */
export function handleCountTokens(body: unknown, res: ServerResponse, deps: GenerateDeps): void {
  const req = parseMessagesRequest(body, true);
  // vLLM checks the model only: nothing runs on the engine, so no injected failure either.
  if (!deps.served.has(req.model)) throw new AnthropicShapedError(modelNotFound(req.model));
  sendJson(res, 200, { input_tokens: deps.tokenizer.count(req.promptText) });
}
