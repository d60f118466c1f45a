/** vLLM's `POST /reset_prefix_cache`: drops the engine's prefix cache, which publishes AllBlocksCleared. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from './engine.js';
import { badRequest, VllmError } from './vllm-error.js';

/** A boolean query parameter as FastAPI reads one: true/false, 1/0, yes/no, on/off; absent is false. */
function queryFlag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null) return false;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw badRequest(`query parameter \`${name}\` must be true or false, got "${v}"`, name);
}

/**
 * 200 with an empty body once the cache is reset. As current vLLM, a 409 when requests still hold blocks,
 * unless `?reset_running_requests=true`, which preempts them first (they recompute). `reset_external` is
 * accepted and ignored: the simulator has no KV connector.
 */
export function handleResetPrefixCache(req: IncomingMessage, res: ServerResponse, engine: Engine, query: URLSearchParams): void {
  req.resume(); // no body is read; drain any, so the connection can be reused
  const resetRunning = queryFlag(query, 'reset_running_requests');
  queryFlag(query, 'reset_external');
  if (!engine.resetPrefixCache(resetRunning)) {
    throw new VllmError(
      409,
      `Prefix cache reset failed: requests still hold KV blocks (${engine.running} running). Retry when they finish, ` +
        'or POST /reset_prefix_cache?reset_running_requests=true to preempt them.',
    );
  }
  res.writeHead(200, { 'content-length': 0 });
  res.end();
}
