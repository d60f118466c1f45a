/**
 * The contract between the ext_proc stream (protocol: body modes, message order, chunking) and the two
 * processors (BBR, EPP) that decide what to do with a request.
 */
import type { Metadata as GrpcMetadata } from '@grpc/grpc-js';
import type { JsonBody } from '../bbr/json-body-parser.js';
import type { GatewayError } from '../errors.js';
import type { HeaderChanges } from '../envoy/header-map.js';
import type { FilterMetadata, JsonValue } from '../envoy/struct-value.js';

/** The request as the processor sees it once the stream has what it needs. */
export interface ProcessedRequest {
  /** Lower-cased names, pseudo-headers (`:method`, `:path`, `:authority`) included. */
  headers: Map<string, string>;
  /** The whole body; undefined for a headers-only request. */
  body: Buffer | undefined;
  /** The body as parsed while it arrived, within the JSON limits; throws what the parse found wrong. */
  parsedBody?: () => JsonBody | undefined;
  /** `metadata_context.filter_metadata`, namespaces merged over the stream's messages. */
  metadata: FilterMetadata;
}

export type RequestVerdict =
  | {
      kind: 'continue';
      headers: HeaderChanges;
      /** The body to forward instead of the client's (a rewritten or trimmed `model`); undefined keeps it. */
      body?: Buffer;
      /** Whether the data plane must match routes again (BBR changed routing headers). */
      clearRouteCache: boolean;
      /** Namespace -> keys, sent as `dynamic_metadata` (the EPP's `envoy.lb`). */
      dynamicMetadata?: Record<string, Record<string, JsonValue>>;
    }
  | { kind: 'reject'; error: GatewayError };

/**
 * One HTTP request's exchange with a processor. The stream calls `decide` at most once, then
 * `responseHeaders` at most once, and `finish` exactly once, whatever happens (response end, trailers,
 * the data plane closing or cancelling the stream), so per-request state such as an endpoint's
 * in-flight count is always released. `finish` may come while a promised verdict is still pending (the
 * stream closed while the request waited): the exchange then gives up the wait, and its verdict is ignored.
 */
export interface Exchange {
  /**
   * Never throws, and a promise never rejects: failures are a `reject` verdict. A promise when the request
   * must wait before it can be decided (the EPP's flow-control queue); the stream holds Envoy's next
   * messages until it settles.
   */
  decide(req: ProcessedRequest): RequestVerdict | Promise<RequestVerdict>;
  /** Changes to the response headers (e.g. the served endpoint). */
  responseHeaders(headers: Map<string, string>, metadata: FilterMetadata): HeaderChanges;
  /**
   * Each piece of the response body, in order, as the data plane forwards it (never called when its
   * `response_body_mode` is NONE); only read, before the stream passes it on.
   */
  responseBody?(chunk: Buffer): void;
  /**
   * The response was seen to its end (its last body chunk, its trailers, or headers with end_of_stream), just
   * before the stream answers that message: dynamic metadata to send with the answer (namespace -> keys; the EPP's
   * request-attribute-reporter values), or undefined.
   */
  responseEndMetadata?(): Record<string, Record<string, JsonValue>> | undefined;
  /**
   * `responseEnded` is true when the response was seen to its end: `end_of_stream` on its headers or body, its
   * trailers, or, when the data plane sends no response body, the stream closing in order after the response
   * headers (Envoy half-closes it both when the response is over and when the client left, so nothing finer can
   * be told then). False when the stream ended before: the data plane gave up, or the client went away.
   * `responseUnread`: the response ended without its body passing here (the data plane sends none): its size is
   * unknown, not zero.
   */
  finish(responseEnded: boolean, responseUnread?: boolean): void;
}

export interface Processor {
  /** `bbr` or `epp`: the label of its metrics and logs. */
  readonly name: 'bbr' | 'epp';
  /** Starts a request; `grpcMetadata` is the stream's initial metadata (per-route values set by the data plane). */
  begin(grpcMetadata: GrpcMetadata): Exchange;
}
