/**
 * The Responses API on the simulator: `POST /v1/responses` (whole or streamed as named SSE events) through the
 * same engine as chat, and `GET`/`DELETE /v1/responses/{id}` and `POST /v1/responses/{id}/cancel` on stored ones.
 */
import type { ServerResponse } from 'node:http';
import type { GenerateDeps } from './generate-handler.js';
import type { GenerationListener } from './generation.js';
import type { ResponseStore } from './response-store.js';
import { checkGeneration, engineRequestFor } from './generate-handler.js';
import { sendJson, startEventStream, writeNamedEvent } from './http-io.js';
import { ResponseEvents, newResponseContext, responseObject } from './responses-bodies.js';
import { parseResponsesRequest } from './responses-request.js';
import { submitAll } from './submit-all.js';
import { VllmError, badRequest } from './vllm-error.js';

export interface ResponsesDeps extends GenerateDeps {
  readonly responses: ResponseStore;
}

/** vLLM's answer for an id it does not hold (serving_responses.py `_make_not_found_error`). */
function notFound(id: string): VllmError {
  return new VllmError(404, `Response with id '${id}' not found.`, null, 'invalid_request_error');
}

function send(res: ServerResponse, events: ReadonlyArray<Record<string, unknown>>): void {
  for (const e of events) writeNamedEvent(res, e.type as string, e);
}

/** `POST /v1/responses`. Throws a VllmError before anything is sent; afterwards answers through `res`. */
export function handleCreateResponse(body: unknown, res: ServerResponse, deps: ResponsesDeps): void {
  const req = parseResponsesRequest(body);
  checkGeneration(req.model, deps);
  let history = '';
  if (req.previousResponseId !== null) {
    const previous = deps.responses.get(req.previousResponseId);
    if (previous === undefined) throw notFound(req.previousResponseId);
    history = previous.conversation;
  }
  // As vLLM builds the messages: new instructions, the previous turn (its input and output), the new input.
  const promptText = (req.instructions ?? '') + history + req.inputText;
  const engineRequest = engineRequestFor(req.model, { promptText, echoText: req.echoText, structured: req.structured }, req.maxOutputTokens, deps);
  if (res.destroyed) return;
  const ctx = newResponseContext(req, req.maxOutputTokens ?? deps.maxModelLen - engineRequest.promptTokens);
  const events = new ResponseEvents(ctx);
  let text = '';
  const finish = (result: Parameters<GenerationListener['onFinish']>[0]): Record<string, unknown> => {
    const response = responseObject(ctx, text, result);
    if (req.store) deps.responses.put(ctx.id, { body: response, conversation: promptText + text });
    return response;
  };
  const listener: GenerationListener = req.stream
    ? {
        onToken(token, index) {
          if (index === 0) send(res, events.itemAdded());
          text += token;
          send(res, [events.delta(token)]);
        },
        onFinish(result) {
          if (text !== '') send(res, events.itemDone(text));
          send(res, [events.completed(finish(result))]);
          res.end();
        },
      }
    : {
        onToken(token) {
          text += token;
        },
        onFinish(result) {
          const response = finish(result);
          if (!res.destroyed) sendJson(res, 200, response);
        },
      };
  submitAll(deps.engine, [engineRequest], () => listener, res);
  if (req.stream) {
    startEventStream(res);
    send(res, events.opening());
  }
}

/** `GET /v1/responses/{id}`: the stored response object. */
export function handleRetrieveResponse(id: string, query: URLSearchParams, res: ServerResponse, store: ResponseStore): void {
  if (query.get('stream') === 'true') {
    throw badRequest('the simulator does not replay response streams; retrieve without `stream=true`', 'stream');
  }
  const stored = store.get(id);
  if (stored === undefined) throw notFound(id);
  sendJson(res, 200, stored.body);
}

/** `DELETE /v1/responses/{id}`, as OpenAI answers it (vLLM itself has no DELETE). */
export function handleDeleteResponse(id: string, res: ServerResponse, store: ResponseStore): void {
  if (!store.delete(id)) throw notFound(id);
  sendJson(res, 200, { id, object: 'response', deleted: true });
}

/** `POST /v1/responses/{id}/cancel`: only background responses can be cancelled, and the simulator has none. */
export function handleCancelResponse(id: string, store: ResponseStore): void {
  if (store.get(id) === undefined) throw notFound(id);
  throw new VllmError(400, 'Cannot cancel a synchronous response.', null, 'invalid_request_error');
}
