/**
 * Ends an answer whose upstream failed after its headers went out. Nothing can be retried or sent as a status
 * any more; an event stream still gets the failure in-band first, as vLLM reports its own mid-stream errors.
 */
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors.js';
import { formatDuration } from '../upstream/duration.js';
import { isMessagesApi } from '../route/messages-api.js';

/** How long the error event may take to reach the socket before the connection is cut all the same. */
const FLUSH_WAIT_MS = 1000;

/**
 * Cuts the client's connection, so the answer ends early: a body is truncated, a stream ends without
 * `data: [DONE]`. A stream (`sse`) first gets `data: {"error": ...}` (under /v1/messages, `event: error` with
 * Anthropic's body, as vLLM sends there), which the openai SDKs raise as an APIError
 * naming what broke, where they otherwise saw a bare "terminated". The blank lines before it end an event the
 * upstream cut part way, so the error is an event of its own.
 */
export function cutAnswer(res: ServerResponse, sse: boolean, err: GatewayError): void {
  if (!sse || res.destroyed || res.writableEnded) {
    res.destroy();
    return;
  }
  // A client that reads nothing keeps the write from flushing: its connection is cut after a while regardless.
  const timer = setTimeout(() => res.destroy(), FLUSH_WAIT_MS);
  timer.unref();
  res.write(errorEvent(res, err), () => {
    clearTimeout(timer);
    res.destroy();
  });
}

/**
 * `err` as an event of its own on `res`'s stream. Under /v1/messages, vLLM's (and Anthropic's) named event: the
 * Anthropic SDKs raise on `event: error`, and skip an unnamed one. The blank lines before it end an event cut part way.
 */
function errorEvent(res: ServerResponse, err: GatewayError): string {
  const event = isMessagesApi(res.req.url) ? `event: error\ndata: ${JSON.stringify(err.toAnthropicBody())}` : `data: ${JSON.stringify(err.toBody())}`;
  return `\n\n${event}\n\n`;
}

/** Set on a response whose answer is an event stream (its headers go out as one list, which getHeader cannot read). */
const EVENT_STREAM = Symbol('eventStream');
type Marked = ServerResponse & { [EVENT_STREAM]?: true };

/** Marks `res` as carrying an event stream, once its headers are written. */
export function markEventStream(res: ServerResponse): void {
  (res as Marked)[EVENT_STREAM] = true;
}

/**
 * What an event stream still open at the drain timeout is told before its connection is cut: the openai SDKs
 * raise it as an APIError saying the gateway shut down, where they otherwise saw a bare "terminated". A whole
 * answer part way, or one not started, can only be cut (the SDKs retry a connection that broke before an answer).
 */
export function drainCutEvent(res: ServerResponse, drainTimeoutMs: number): void {
  if ((res as Marked)[EVENT_STREAM] !== true || res.writableEnded || res.destroyed) return;
  const err = new GatewayError('shutting_down', `the gateway shut down before this stream ended: its drain timeout (${formatDuration(drainTimeoutMs)}, --drain-timeout) passed; send the request again, another replica takes it`);
  res.write(errorEvent(res, err));
  // Node corks a chunked write until the next tick, and the connection is destroyed before that: flushed now, the
  // event is in the kernel's buffer when the socket closes, and goes out before the FIN.
  const socket = res.socket;
  for (let i = 0; socket !== null && socket.writableCorked > 0 && i < 8; i++) socket.uncork();
}
