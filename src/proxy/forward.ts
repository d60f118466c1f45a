/** Sends a planned request upstream, streams the answer back, and fails over when a connection fails. */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { DESTINATION_ENDPOINT_SERVED_HEADER } from '../bbr/routing-headers.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { connectionTokens, isHopByHop } from './hop-by-hop.js';
import { errorCode, isConnectFailure } from './connect-failure.js';
import type { GatewayState, RoutePlan } from './plan-request.js';
import type { PickOutcome } from './pick-stage.js';
import type { DecisionLog } from '../observability/decision-log.js';
import { pickAndRecord } from './record-decision.js';
import { sendError } from './send-error.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface ForwardContext {
  state: GatewayState;
  /** Records each pick with its plugins' scores when enabled (`GET /debug/scheduling`). */
  decisions?: DecisionLog;
  upstreams: UpstreamPools;
  maxAttempts: number;
  log: Logger;
  /** Called when an endpoint failed to connect: refresh what we know of it. */
  onConnectFailure: (ep: Endpoint) => void;
}

export interface ForwardRequest {
  method: string;
  /** Path with query string, as the client sent it. */
  url: string;
  headers: Record<string, string | string[]>;
  body: Buffer | undefined;
  requestId: string;
}

/**
 * Tries up to `maxAttempts` endpoints. Only a failure before any response byte (refused, reset, connect
 * timeout) moves on to another endpoint, which is held out for a backoff; once the upstream answered,
 * its status and body pass through unchanged. A client that goes away aborts the upstream request.
 */
export async function forward(ctx: ForwardContext, plan: RoutePlan, req: ForwardRequest, res: ServerResponse): Promise<void> {
  // undici accepts an EventEmitter as its abort signal: cheaper per request than an AbortController.
  const abort = new EventEmitter();
  // The client is gone when its side of the socket ends or fails. A close of `res` alone does not say so:
  // undici also destroys `res` when the upstream breaks mid-body, and that must be logged, not ignored.
  let clientGone = false;
  const socket = res.socket;
  const onPeerGone = (err?: Error & { code?: string }): void => {
    // An 'error' also fires when undici destroys the response with the upstream's error: only the peer's own
    // resets count.
    if (!err || err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED') clientGone = true;
  };
  const onClose = (): void => {
    if (!res.writableFinished) abort.emit('abort');
  };
  socket?.on('end', onPeerGone);
  socket?.on('error', onPeerGone);
  res.on('close', onClose);
  const tried = new Set<string>();
  const failures: string[] = [];
  try {
    for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
      let pick: PickOutcome;
      try {
        pick = pickAndRecord(ctx.state, plan, tried, ctx.decisions);
      } catch (e) {
        if (failures.length === 0) throw e;
        break; // nothing left to fail over to: report what was tried
      }
      const ep = pick.endpoint;
      tried.add(ep.address);
      ep.inFlight++;
      let started = false;
      try {
        // stream() writes the upstream body straight into `res` with backpressure, chunk by chunk as it
        // arrives (SSE is never buffered), and ends it when the upstream ends.
        await ctx.upstreams.get(ep.origin).stream({ method: req.method as 'POST', path: req.url, headers: req.headers, body: req.body ?? null, signal: abort }, ({ statusCode, headers }) => {
          started = true;
          if (ep.consecutiveFailures > 0) ep.markReachable();
          const out = responseHeaders(headers, ep.address);
          // Plugins' response hooks, e.g. session affinity's token for the client to send back.
          pick.poolScheduler.scheduler.responseHeaders(pick.ctx, pick.result, ep, (name, value) => {
            out[name] = value;
          });
          res.writeHead(statusCode, out);
          // Send the headers now so a streaming client sees the response start before the first token.
          res.flushHeaders();
          return res;
        });
        return;
      } catch (e) {
        if (clientGone) {
          ctx.log.debug('client disconnected; upstream request aborted', { request_id: req.requestId, endpoint: ep.address, error: errorCode(e) });
          return;
        }
        if (started) {
          // Bytes already reached the client: nothing can be retried or reported in-band.
          ctx.log.warn('upstream response ended with an error', { request_id: req.requestId, endpoint: ep.address, error: errorCode(e) });
          ctx.onConnectFailure(ep);
          res.destroy();
          return;
        }
        if (!isConnectFailure(e)) throw upstreamError(e, ep);
        failures.push(`${ep.address}: ${errorCode(e)}`);
        ep.markConnectFailure(Date.now());
        ctx.onConnectFailure(ep);
        ctx.log.warn('upstream connection failed', { request_id: req.requestId, endpoint: ep.address, attempt, of: ctx.maxAttempts, error: errorCode(e) });
      } finally {
        ep.inFlight--;
        pick.poolScheduler.scheduler.responseComplete(pick.ctx, pick.result, ep);
      }
    }
    throw new GatewayError('upstream_unavailable', `could not connect to any endpoint of InferencePool ${plan.view?.key ?? '?'} after ${failures.length} attempt(s): ${failures.join('; ')}`);
  } catch (e) {
    if (e instanceof GatewayError) sendError(res, e);
    else throw e;
  } finally {
    res.off('close', onClose);
    socket?.off('end', onPeerGone);
    socket?.off('error', onPeerGone);
  }
}

function upstreamError(e: unknown, ep: Endpoint): GatewayError {
  const code = errorCode(e);
  const what = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'did not answer in time' : 'failed';
  return new GatewayError('upstream_unavailable', `endpoint ${ep.address} (pod ${ep.podKey}) ${what}: ${code}: ${(e as Error).message}`);
}

function responseHeaders(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>, served: string): Record<string, string | string[]> {
  const tokens = connectionTokens(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !isHopByHop(k, tokens)) out[k] = v;
  out[DESTINATION_ENDPOINT_SERVED_HEADER] = served;
  return out;
}
