/** Routes the simulator's HTTP requests: generation, LoRA admin, models, health, metrics; the rest get a vLLM error. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenerateDeps } from './generate-handler.js';
import type { Endpoint } from './generate-request.js';
import type { VllmMetrics } from './vllm-metrics.js';
import { handleGenerate } from './generate-handler.js';
import { parseGenerateRequest } from './generate-request.js';
import { readJsonBody, sendError, sendJson, sendText } from './http-io.js';
import { handleLoadLora, handleUnloadLora } from './lora-admin-handler.js';
import { modelListBody } from './model-list.js';
import { VllmError, asVllmError } from './vllm-error.js';

/** Everything a request may touch. */
export interface RouterContext extends GenerateDeps {
  readonly podName: string;
  readonly metrics: VllmMetrics;
  /** Unix seconds the simulator started, reported as `created` in the model list. */
  readonly created: number;
  /** True once close() began: new requests on open connections are reset, unprocessed. */
  isClosing(): boolean;
}

const GENERATE_PATHS: Readonly<Record<string, Endpoint>> = {
  '/v1/completions': 'completion',
  '/v1/chat/completions': 'chat',
};
const LORA_PATHS = new Set(['/v1/load_lora_adapter', '/v1/unload_lora_adapter']);
const GET_PATHS = new Set(['/health', '/metrics', '/v1/models']);

async function route(req: IncomingMessage, res: ServerResponse, ctx: RouterContext): Promise<void> {
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const endpoint = GENERATE_PATHS[path];
  if (endpoint !== undefined || LORA_PATHS.has(path)) {
    if (method !== 'POST') throw new VllmError(405, `${method} is not allowed on ${path}; use POST`);
    const body = await readJsonBody(req);
    if (endpoint !== undefined) handleGenerate(parseGenerateRequest(endpoint, body), res, ctx);
    else if (path === '/v1/load_lora_adapter') handleLoadLora(body, res, ctx.served);
    else handleUnloadLora(body, res, ctx.served);
    return;
  }
  if (!GET_PATHS.has(path)) throw new VllmError(404, `Not Found: ${method} ${path}`);
  if (method !== 'GET' && method !== 'HEAD') throw new VllmError(405, `${method} is not allowed on ${path}; use GET`);
  if (path === '/health') {
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  } else if (path === '/metrics') {
    sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', ctx.metrics.render(ctx.engine));
  } else {
    sendJson(res, 200, modelListBody(ctx.served, ctx.created, ctx.maxModelLen));
  }
}

/** The node:http request listener. Never throws: every failure becomes a vLLM-shaped error response. */
export function createRequestListener(ctx: RouterContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (ctx.podName !== '') res.setHeader('x-inference-pod', ctx.podName);
    if (ctx.isClosing()) {
      // Like a pod after SIGTERM whose server stopped: finish what was accepted, take nothing new. A request
      // that raced the close on a kept-alive connection sees the connection reset, as it would from a
      // stopped uvicorn, so a proxy knows it was never processed and may send it elsewhere.
      req.socket.destroy();
      return;
    }
    route(req, res, ctx).catch((err: unknown) => sendError(res, asVllmError(err)));
  };
}
