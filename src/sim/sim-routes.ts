/** The simulator's HTTP routes: vLLM's paths, the methods each takes, the API family it belongs to, its handler. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouterContext } from './router-context.js';
import type { ApiFamily } from './sim-task.js';
import { handleAudio } from './audio-handler.js';
import { handleResetPrefixCache } from './cache-admin-handler.js';
import { handleGenerate } from './generate-handler.js';
import { parseGenerateRequest } from './generate-request.js';
import { readJsonBody, sendJson, sendText } from './http-io.js';
import { handleLoadLora, handleUnloadLora } from './lora-admin-handler.js';
import { handleCountTokens, handleCreateMessage } from './messages-handler.js';
import { modelListBody } from './model-list.js';
import { handleClassify, handleEmbeddings, handlePooling } from './pooling-handler.js';
import { handleRenderChat, handleRenderCompletion } from './render-handler.js';
import { handleCancelResponse, handleCreateResponse, handleDeleteResponse, handleRetrieveResponse } from './responses-handler.js';
import { handleRerank, handleScore } from './score-handler.js';
import { handleDetokenize, handleTokenize } from './tokenize-handler.js';
import { badRequest } from './vllm-error.js';

/** What a handler gets besides the request: the `{id}` of a parameterised path and the query string. */
export interface RouteMatch {
  readonly id: string;
  readonly query: URLSearchParams;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RouterContext, match: RouteMatch) => void | Promise<void>;

export interface Route {
  /** GET routes answer HEAD too. */
  readonly methods: readonly string[];
  /** The API it belongs to, served only when the simulator's task includes it; null for what every vLLM serves. */
  readonly family: ApiFamily | null;
  readonly handle: Handler;
}

/**
 * A POST route whose handler takes the parsed JSON body. As vLLM's `validate_json_request`, a body sent with any
 * media type but application/json (curl's `-d` alone sends a form type) is a 400 before it is read.
 */
function post(family: ApiFamily | null, handle: (body: unknown, res: ServerResponse, ctx: RouterContext) => void | Promise<void>): Route {
  return {
    methods: ['POST'],
    family,
    handle: async (req, res, ctx) => {
      if (mediaTypeOf(req.headers['content-type']) !== 'application/json') {
        req.resume();
        throw badRequest("Unsupported Media Type: Only 'application/json' is allowed");
      }
      return handle(await readJsonBody(req), res, ctx);
    },
  };
}

/** A Content-Type's media type, lower-cased, without its parameters ('' when there is none). */
function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function get(handle: Handler): Route {
  return { methods: ['GET'], family: null, handle };
}

const score = post('score', handleScore);
const rerank = post('score', handleRerank);

/** Fixed paths. */
export const ROUTES: Readonly<Record<string, Route>> = {
  '/v1/completions': post('generate', (b, res, ctx) => handleGenerate(parseGenerateRequest('completion', b), res, ctx)),
  '/v1/chat/completions': post('generate', (b, res, ctx) => handleGenerate(parseGenerateRequest('chat', b), res, ctx)),
  '/v1/chat/completions/render': post('generate', handleRenderChat),
  '/v1/completions/render': post('generate', handleRenderCompletion),
  '/v1/responses': post('generate', (b, res, ctx) => handleCreateResponse(b, res, ctx)),
  // vLLM's Anthropic Messages API (vllm/entrypoints/anthropic/api_router.py).
  '/v1/messages': post('generate', handleCreateMessage),
  '/v1/messages/count_tokens': post('generate', handleCountTokens),
  '/v1/embeddings': post('embed', handleEmbeddings),
  '/pooling': post('pooling', handlePooling),
  '/classify': post('classify', handleClassify),
  '/score': score,
  '/v1/score': score,
  '/rerank': rerank,
  '/v1/rerank': rerank,
  '/v2/rerank': rerank,
  '/tokenize': post(null, handleTokenize),
  '/detokenize': post(null, handleDetokenize),
  '/v1/audio/transcriptions': { methods: ['POST'], family: 'transcription', handle: (req, res, ctx) => handleAudio('transcription', req, res, ctx) },
  '/v1/audio/translations': { methods: ['POST'], family: 'transcription', handle: (req, res, ctx) => handleAudio('translation', req, res, ctx) },
  '/v1/load_lora_adapter': post(null, (b, res, ctx) => handleLoadLora(b, res, ctx.served)),
  '/v1/unload_lora_adapter': post(null, (b, res, ctx) => handleUnloadLora(b, res, ctx.served)),
  '/reset_prefix_cache': { methods: ['POST'], family: null, handle: (req, res, ctx, { query }) => handleResetPrefixCache(req, res, ctx.engine, query) },
  '/health': get((_req, res) => {
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  }),
  '/metrics': get((_req, res, ctx) => sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', ctx.metrics.render(ctx.engine))),
  // vLLM's version endpoint and SageMaker's health check (GET and POST), as its API server serves them.
  '/version': get((_req, res) => sendJson(res, 200, { version: SIMULATED_VLLM_VERSION })),
  '/ping': {
    methods: ['GET', 'POST'],
    family: null,
    handle: (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    },
  },
  '/v1/models': get((_req, res, ctx) => sendJson(res, 200, modelListBody(ctx.served, ctx.created, ctx.maxModelLen))),
};

/** The vLLM release whose API the simulator answers as (its `/version`). */
export const SIMULATED_VLLM_VERSION = '0.11.0';

const STORED_RESPONSE: Route = {
  methods: ['GET', 'DELETE'],
  family: 'generate',
  handle: (req, res, ctx, { id, query }) =>
    req.method === 'DELETE' ? handleDeleteResponse(id, res, ctx.responses) : handleRetrieveResponse(id, query, res, ctx.responses),
};

const CANCEL_RESPONSE: Route = { methods: ['POST'], family: 'generate', handle: (_req, _res, ctx, { id }) => handleCancelResponse(id, ctx.responses) };

const RESPONSE_PATH = /^\/v1\/responses\/([^/]+)(\/cancel)?$/;

/** The route for `path` and the id in it, or null for a path vLLM does not serve. */
export function findRoute(path: string): { route: Route; id: string } | null {
  if (Object.hasOwn(ROUTES, path)) return { route: ROUTES[path]!, id: '' };
  const m = RESPONSE_PATH.exec(path);
  if (m === null) return null;
  let id: string;
  try {
    id = decodeURIComponent(m[1]!);
  } catch {
    return null; // a malformed escape names no response
  }
  return { route: m[2] === undefined ? STORED_RESPONSE : CANCEL_RESPONSE, id };
}
