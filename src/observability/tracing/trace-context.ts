/** W3C Trace Context at the gateway's two edges: the client's `traceparent`/`tracestate` in, the pod's out. */
import { ROOT_CONTEXT, defaultTextMapGetter, type Context, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const propagator = new W3CTraceContextPropagator();

/**
 * The context the request's span starts under: the client's span when it sent a valid `traceparent`, so the
 * gateway's spans join the client's trace; else the root context (a new trace). An invalid header is ignored,
 * as the W3C spec asks.
 */
export function clientContext(traceparent: string | undefined, tracestate: string | undefined): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  const carrier: Record<string, string> = tracestate === undefined ? { traceparent } : { traceparent, tracestate };
  return propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** The `traceparent` (and `tracestate`, when the trace carries one) that names `span` to the next hop. */
export function traceHeaders(span: SpanContext): Record<string, string> {
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const state = span.traceState?.serialize();
  return state ? { traceparent, tracestate: state } : { traceparent };
}
