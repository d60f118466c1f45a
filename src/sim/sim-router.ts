/** Routes the simulator's HTTP requests: the API key check, then vLLM's paths; the rest get a vLLM error. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouterContext } from './router-context.js';
import { UNAUTHORIZED_BODY } from './api-key-guard.js';
import { sendError, sendJson } from './http-io.js';
import { findRoute } from './sim-routes.js';
import { API_NAMES, servesApi } from './sim-task.js';
import { VllmError, asVllmError } from './vllm-error.js';

/** The task that serves each API, for the message of a pod that does not. */
const TASK_FOR = { generate: 'generate', embed: 'embed', pooling: 'embed', classify: 'classify', score: 'embed', transcription: 'transcription' } as const;

async function route(req: IncomingMessage, res: ServerResponse, ctx: RouterContext, path: string, query: string): Promise<void> {
  const method = req.method ?? 'GET';
  const found = findRoute(path);
  if (found === null) throw new VllmError(404, `Not Found: ${method} ${path}`);
  const { route, id } = found;
  const allowed = route.methods.includes(method) || (method === 'HEAD' && route.methods.includes('GET'));
  if (!allowed) throw new VllmError(405, `${method} is not allowed on ${path}; use ${route.methods.join(' or ')}`);
  if (route.family !== null && !servesApi(ctx.task, route.family)) {
    // A vLLM server mounts only the routes its model's task supports.
    throw new VllmError(
      404,
      `The model does not support the ${API_NAMES[route.family]} API: this simulator runs task \`${ctx.task}\`; ` +
        `start it with --task ${TASK_FOR[route.family]} (or --task auto, which serves every API)`,
    );
  }
  await route.handle(req, res, ctx, { id, query: new URLSearchParams(query) });
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
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!ctx.apiKeys.allows(req, path)) {
      req.resume(); // drain the unread body so the connection can be reused
      sendJson(res, 401, UNAUTHORIZED_BODY);
      return;
    }
    route(req, res, ctx, path, q < 0 ? '' : url.slice(q + 1)).catch((err: unknown) => sendError(res, asVllmError(err)));
  };
}
