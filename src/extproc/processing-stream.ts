/**
 * One ext_proc gRPC stream, that is one HTTP request and its response, driven by Envoy's messages: the body
 * modes (FULL_DUPLEX_STREAMED, BUFFERED, headers-only), the body limit, the order of answers, and the
 * response phases that end the exchange. What to do with the request is the processor's business.
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { asGatewayError, type GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { bodyTooLarge } from '../proxy/read-body.js';
import type { BodyLimit, BodyLimits } from '../proxy/body-limits.js';
import { JsonBodyParser } from '../bbr/json-body-parser.js';
import { namingContentType } from '../bbr/body-content-type.js';
import { isMultipart } from '../bbr/multipart-model.js';
import type { JsonLimits } from '../bbr/json-limits.js';
import type { ExtprocMetrics } from './extproc-metrics.js';
import { headerMutation, readHeaderMap, type HeaderChanges } from '../envoy/header-map.js';
import { immediateResponse } from './immediate-response.js';
import type { BodySendMode, CommonResponse, HttpBody, HttpHeaders, ProcessingRequest, ProcessingResponse } from '../envoy/processing-messages.js';
import type { Exchange, Processor, RequestVerdict } from './processor.js';
import { streamedBodyResponses, streamedChunk } from '../envoy/streamed-body.js';
import { mergeFilterMetadata, toStruct, type FilterMetadata } from '../envoy/struct-value.js';

/** The request body modes the processors work with: both let them see the whole body before the headers go upstream. */
export type RequestBodyMode = 'FULL_DUPLEX_STREAMED' | 'BUFFERED';

export interface StreamOptions {
  /** Larger bodies get 413, as with the standalone gateway's --max-body-bytes and --max-upload-bytes (multipart uploads). */
  bodyLimits: BodyLimits;
  /** A body over these gets 400 invalid_json as soon as the chunk that crosses them arrives, as with `serve`. */
  jsonLimits: JsonLimits;
  /** Assumed when the data plane sends no protocol_config (Envoy releases before it existed). */
  assumedBodyMode: RequestBodyMode;
  metrics: ExtprocMetrics;
  log: Logger;
}

export type ProcessCall = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/** The gRPC handler of `ExternalProcessor/Process` for one processor. */
export function processHandler(processor: Processor, opts: StreamOptions): (call: ProcessCall) => void {
  return (call) => {
    const stream = new ProcessingStream(call, processor, opts);
    call.on('data', (m: ProcessingRequest) => stream.onMessage(m));
    call.on('end', () => stream.onEnd());
    call.on('cancelled', () => stream.onGone());
    call.on('error', () => stream.onGone());
  };
}

/** `waiting`: the processor's verdict is a pending promise (a request in the EPP's flow-control queue). */
type Phase = 'awaiting-headers' | 'collecting' | 'waiting' | 'decided' | 'closed';

type ContinueVerdict = Extract<RequestVerdict, { kind: 'continue' }>;

class ProcessingStream {
  readonly #call: ProcessCall;
  readonly #processor: Processor;
  readonly #opts: StreamOptions;
  readonly #exchange: Exchange;
  #phase: Phase = 'awaiting-headers';
  #requestMode: BodySendMode | undefined;
  #responseMode: BodySendMode | undefined;
  #metadata: FilterMetadata = {};
  #headers = new Map<string, string>();
  #chunks: Buffer[] = [];
  #size = 0;
  /** Parses the body as it arrives, so the processor gets it parsed and a body over the limits is refused early. */
  #parser: JsonBodyParser | undefined;
  /** A multipart/form-data upload: not parsed as it arrives; its `model` field is read once it is whole. */
  #multipart = false;
  /** The body's limit, by its Content-Type; set with the headers. */
  #limit: BodyLimit | undefined;
  #sawBody = false;
  #observe = false;
  #finished = false;
  /** The response headers passed through this stream. */
  #responseStarted = false;
  /** The response was seen to its end (see Exchange.finish). */
  #responseEnded = false;
  /** It ended without its body passing here (response_body_mode NONE). */
  #responseUnread = false;
  /** When the stream opened (performance.now()), for its duration. */
  readonly #openedAt = performance.now();
  /** Messages that arrived while the verdict was pending, handled in order once it is answered. */
  #held: ProcessingRequest[] = [];

  constructor(call: ProcessCall, processor: Processor, opts: StreamOptions) {
    this.#call = call;
    this.#processor = processor;
    this.#opts = opts;
    this.#exchange = processor.begin(call.metadata);
    opts.metrics.streamOpened(processor.name);
  }

  onMessage(m: ProcessingRequest): void {
    if (this.#phase === 'closed') return;
    // The answers to what came before are not written yet: Envoy expects them in order.
    if (this.#phase === 'waiting') {
      this.#held.push(m);
      return;
    }
    try {
      this.#dispatch(m);
    } catch (e) {
      this.#opts.log.error('ext_proc message failed', { ...this.#logFields(), error: (e as Error).message, stack: (e as Error).stack });
      if (this.#phase === 'decided') this.#fail(status.INTERNAL, `infergate ${this.#processor.name}: ${(e as Error).message}`);
      else this.#reject(asGatewayError(e));
    }
  }

  /** The data plane half-closed: the HTTP stream is over. */
  onEnd(): void {
    if (this.#phase === 'closed') return;
    // Without the response body, the stream closing in order after its headers is the only end the server sees.
    if (this.#responseStarted && this.#responseBodyMode === 'NONE') this.#responseEnded = this.#responseUnread = true;
    this.#close('cancelled', status.OK);
    this.#call.end();
  }

  /** The data plane cancelled or reset the stream (client went away, timeout). */
  onGone(): void {
    if (this.#phase !== 'closed') this.#close('cancelled', status.CANCELLED);
  }

  #dispatch(m: ProcessingRequest): void {
    if (m.observability_mode) this.#observe = true;
    // Read before anything can fail, so even a refusal of the first message is logged with the request's id.
    if (m.request === 'request_headers' && this.#phase === 'awaiting-headers') this.#headers = readHeaderMap(m.request_headers?.headers);
    if (m.protocol_config) {
      this.#requestMode = m.protocol_config.request_body_mode ?? 'NONE';
      this.#responseMode = m.protocol_config.response_body_mode ?? 'NONE';
      // A headers-only request (a GET /v1/models) has no body for the mode to matter: it is answered at once, in any
      // mode, as GIE's and llm-d's EPP pick it at its headers. With a body, these modes would send the headers
      // upstream before the body is seen (NONE never sends it: GIE's EPP waits for it until Envoy's timeout).
      const headersOnly = m.request === 'request_headers' && m.request_headers?.end_of_stream === true;
      // Observability mode ("send and go") answers nothing, so no mode can let headers through too early; and
      // Envoy sends the body there in STREAMED mode only (ext_proc.proto, observability_mode): its chunks are
      // collected to their end as in FULL_DUPLEX_STREAMED, and the request is picked and counted as a shadow.
      if (this.#requestMode !== 'FULL_DUPLEX_STREAMED' && this.#requestMode !== 'BUFFERED' && !headersOnly && !this.#observe) {
        return this.#fail(
          status.FAILED_PRECONDITION,
          `infergate's ${this.#processor.name} ext_proc server needs processing_mode.request_body_mode FULL_DUPLEX_STREAMED (recommended) or BUFFERED, so that it sees the whole body before the request headers go upstream; this filter sends ${this.#requestMode}`,
        );
      }
    }
    mergeFilterMetadata(this.#metadata, m.metadata_context);
    switch (m.request) {
      case 'request_headers':
        return this.#onRequestHeaders(m.request_headers ?? {});
      case 'request_body':
        return this.#onRequestBody(m.request_body ?? {});
      case 'request_trailers':
        return this.#onRequestTrailers();
      case 'response_headers':
        return this.#onResponseHeaders(m.response_headers ?? {});
      case 'response_body':
        return this.#onResponseBody(m.response_body ?? {});
      case 'response_trailers':
        this.#responseEnded = true;
        this.#write(this.#withEndMetadata({ response_trailers: {} }));
        return this.#finishExchange();
      default:
        return this.#fail(status.INVALID_ARGUMENT, 'ProcessingRequest without a request field');
    }
  }

  get #mode(): RequestBodyMode {
    return (this.#requestMode as RequestBodyMode | undefined) ?? this.#opts.assumedBodyMode;
  }

  /**
   * Without protocol_config (Envoy before 1.34, other data planes) the response body mode is assumed to be the
   * request's, as GIE's servers assume FULL_DUPLEX_STREAMED both ways: a filter in FULL_DUPLEX_STREAMED forwards
   * only the response chunks the server sends back, so answering them with a bare CONTINUE would lose the body.
   */
  get #responseBodyMode(): BodySendMode {
    return this.#responseMode ?? (this.#requestMode === undefined ? this.#opts.assumedBodyMode : 'NONE');
  }

  #onRequestHeaders(h: HttpHeaders): void {
    if (this.#phase !== 'awaiting-headers') return this.#fail(status.FAILED_PRECONDITION, 'request_headers sent twice on one stream');
    this.#multipart = isMultipart(this.#headers.get('content-type'));
    const limit = (this.#limit = this.#opts.bodyLimits.of(this.#headers.get('content-type')));
    const declared = Number(this.#headers.get('content-length'));
    if (Number.isFinite(declared) && declared > limit.bytes) return this.#reject(bodyTooLarge(limit.bytes, declared, limit.flag));
    // BUFFERED with `content-length: 0` (an HTTP/2 request whose end comes as an empty DATA frame or trailers): no
    // body will come, so it is decided now, while the answer can still change the headers (see #onRequestTrailers).
    if (h.end_of_stream || (this.#mode === 'BUFFERED' && this.#headers.get('content-length')?.trim() === '0')) return this.#answerBuffered(undefined, 'request_headers');
    this.#phase = 'collecting';
    // BUFFERED: Envoy sends the body only once the headers are answered; the routing headers go with the body's answer.
    if (this.#mode === 'BUFFERED') this.#write({ request_headers: {} });
  }

  #onRequestBody(b: HttpBody): void {
    const chunk = b.body ?? Buffer.alloc(0);
    if (this.#phase === 'awaiting-headers') return this.#fail(status.FAILED_PRECONDITION, 'request_body before request_headers');
    if (this.#phase === 'decided') {
      // Body after the decision (the data plane kept sending): let it through unchanged.
      this.#write(this.#mode === 'FULL_DUPLEX_STREAMED' ? streamedChunk(chunk, b.end_of_stream === true, 'request_body') : { request_body: {} });
      return;
    }
    this.#size += chunk.length;
    const limit = this.#limit!;
    if (this.#size > limit.bytes) return this.#reject(bodyTooLarge(limit.bytes, undefined, limit.flag));
    // A multipart upload (audio) is not JSON: its `model` field is found once the body is whole (src/bbr/body-model.ts).
    if (!this.#multipart) {
      this.#parser ??= new JsonBodyParser(this.#opts.jsonLimits);
      try {
        this.#parser.write(chunk);
      } catch (e) {
        return this.#reject(asGatewayError(namingContentType(e, this.#headers.get('content-type'), this.#headers.get('content-encoding'))));
      }
    }
    this.#chunks.push(chunk);
    this.#sawBody = true;
    // BUFFERED sends the whole body in one message, without end_of_stream when trailers follow.
    if (this.#mode === 'BUFFERED') return this.#answerBuffered(this.#body(), 'request_body');
    if (b.end_of_stream) this.#answerFullDuplex(true);
  }

  #onRequestTrailers(): void {
    const answerTrailers = (): void => this.#write({ request_trailers: {} });
    if (this.#phase !== 'collecting') return answerTrailers();
    // Trailers end the body: decide now, and answer them after the decision.
    if (this.#mode === 'FULL_DUPLEX_STREAMED') return this.#answerFullDuplex(false, answerTrailers);
    // BUFFERED with no body: the headers were answered already, and a trailers answer cannot change them (Envoy's
    // TrailersResponse mutates trailers only). A rejection still applies; a pick goes in the answer's dynamic_metadata,
    // which Envoy applies from any answer, so a cluster reading envoy.lb still sends the request to it.
    this.#decide(undefined, (verdict) => {
      if (verdict.headers.remove.length > 0 || Object.keys(verdict.headers.set).length > 0 || verdict.clearRouteCache) {
        this.#opts.log.warn('ext_proc header changes lost: BUFFERED request with trailers and no body', {
          ...this.#logFields(),
          headers: Object.keys(verdict.headers.set).concat(verdict.headers.remove).join(', '),
          hint: 'request headers can no longer be changed after trailers; use request_body_mode FULL_DUPLEX_STREAMED',
        });
      }
      this.#write(withMetadata({ request_trailers: {} }, verdict));
    });
  }

  #onResponseHeaders(h: HttpHeaders): void {
    this.#responseStarted = true;
    const changes = this.#exchange.responseHeaders(readHeaderMap(h.headers), this.#metadata);
    const mutation = headerMutation(changes);
    const answer: ProcessingResponse = { response_headers: mutation ? { response: { header_mutation: mutation } } : {} };
    this.#write(h.end_of_stream ? this.#withEndMetadata(answer) : answer);
    if (h.end_of_stream) {
      this.#responseEnded = true;
      this.#finishExchange();
    }
  }

  #onResponseBody(b: HttpBody): void {
    const chunk = b.body ?? Buffer.alloc(0);
    // Read as it arrives (token timing, usage), before it goes on.
    this.#exchange.responseBody?.(chunk);
    // In FULL_DUPLEX_STREAMED the data plane forwards only what the server sends back: echo every chunk.
    const answer = this.#responseBodyMode === 'FULL_DUPLEX_STREAMED' ? streamedChunk(chunk, b.end_of_stream === true, 'response_body') : { response_body: {} };
    this.#write(b.end_of_stream ? this.#withEndMetadata(answer) : answer);
    if (b.end_of_stream) {
      this.#responseEnded = true;
      this.#finishExchange();
    }
  }

  /** The answer to the response's last message, with what the exchange reports at the response's end (dynamic metadata). */
  #withEndMetadata(r: ProcessingResponse): ProcessingResponse {
    const md = this.#exchange.responseEndMetadata?.();
    if (md !== undefined) r.dynamic_metadata = toStruct(md);
    return r;
  }

  /** Headers-only requests and BUFFERED bodies: one answer, to the message that completed the request. */
  #answerBuffered(body: Buffer | undefined, phase: 'request_headers' | 'request_body'): void {
    this.#decide(body, (verdict) => {
      const replaced = phase === 'request_body' ? verdict.body : undefined;
      const common = commonResponse(replaced ? withContentLength(verdict.headers, replaced.length) : verdict.headers, verdict.clearRouteCache);
      if (replaced) common.body_mutation = { body: replaced };
      this.#write(withMetadata({ [phase]: wrap(common) }, verdict));
    });
  }

  /**
   * FULL_DUPLEX_STREAMED: the headers answer was held until the body was complete; now send it, then the
   * body (the processor's replacement or the original) in chunks. `endOfStream` is false when trailers follow;
   * `then` answers them.
   */
  #answerFullDuplex(endOfStream: boolean, then?: () => void): void {
    const original = this.#body();
    const sawBody = this.#sawBody;
    this.#decide(sawBody ? original : undefined, (verdict) => {
      const body = verdict.body ?? original;
      const changes = verdict.body ? withContentLength(verdict.headers, body.length) : verdict.headers;
      this.#write(withMetadata({ request_headers: wrap(commonResponse(changes, verdict.clearRouteCache)) }, verdict));
      if (sawBody) for (const r of streamedBodyResponses(body, endOfStream)) this.#write(r);
      then?.();
    });
  }

  /**
   * Asks the processor, then `answer`s a continue verdict; a rejection is answered here (immediate_response).
   * A verdict that waits (the EPP's flow-control queue) holds Envoy's next messages until it is answered.
   */
  #decide(body: Buffer | undefined, answer: (verdict: ContinueVerdict) => void): void {
    this.#phase = 'decided';
    this.#chunks = [];
    const parser = body !== undefined ? this.#parser : undefined;
    this.#parser = undefined;
    const verdict = this.#exchange.decide({ headers: this.#headers, body, metadata: this.#metadata, ...(parser ? { parsedBody: () => parser.end() } : {}) });
    if (!(verdict instanceof Promise)) return this.#decided(verdict, answer);
    this.#phase = 'waiting';
    void verdict.then((v) => {
      // The stream closed while it waited (client gone, Envoy cancelling): the exchange already gave up.
      if (this.#phase !== 'waiting') return;
      this.#phase = 'decided';
      try {
        this.#decided(v, answer);
        const held = this.#held;
        this.#held = [];
        for (const m of held) this.onMessage(m);
      } catch (e) {
        this.#opts.log.error('ext_proc answer failed', { ...this.#logFields(), error: (e as Error).message, stack: (e as Error).stack });
        if ((this.#phase as Phase) !== 'closed') this.#fail(status.INTERNAL, `infergate ${this.#processor.name}: ${(e as Error).message}`);
      }
    });
  }

  #decided(verdict: RequestVerdict, answer: (verdict: ContinueVerdict) => void): void {
    if (verdict.kind === 'reject') return this.#reject(verdict.error);
    this.#opts.metrics.countRequest(this.#processor.name, 'ok');
    answer(verdict);
  }

  #body(): Buffer {
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
  }

  #reject(err: GatewayError): void {
    this.#opts.metrics.countRequest(this.#processor.name, err.code);
    this.#opts.log.debug('ext_proc request rejected', { ...this.#logFields(), code: err.code, message: err.message });
    this.#write({ immediate_response: immediateResponse(err, this.#headers.get(':path')) });
    this.#close(undefined, status.OK);
    // Envoy stops processing after an immediate response; ending the stream frees it at once.
    this.#call.end();
  }

  /** Ends the stream with a gRPC error: Envoy then fails the request, or continues when failure_mode_allow is set. */
  #fail(code: status, details: string): void {
    this.#opts.log.warn('ext_proc stream failed', { ...this.#logFields(), details });
    this.#close('protocol_error', code);
    this.#call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  /**
   * The processor, and the request's x-request-id once its headers came: Envoy gives every request one and writes
   * it in its access log (%REQ(X-REQUEST-ID)%), so the two logs' lines about a request can be matched, as `serve`'s.
   */
  #logFields(): { processor: string; request_id?: string } {
    const id = this.#headers.get('x-request-id');
    return id === undefined ? { processor: this.#processor.name } : { processor: this.#processor.name, request_id: id };
  }

  #write(r: ProcessingResponse): void {
    if (this.#observe || this.#phase === 'closed') return;
    this.#call.write(r);
  }

  #finishExchange(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#exchange.finish(this.#responseEnded, this.#responseUnread);
  }

  /** `undecided`: the outcome to count when the stream ends before any decision; `code`: the status it ends with. */
  #close(undecided: 'cancelled' | 'protocol_error' | undefined, code: status): void {
    if (undecided && this.#phase !== 'decided') this.#opts.metrics.countRequest(this.#processor.name, undecided);
    this.#phase = 'closed';
    this.#chunks = [];
    this.#held = [];
    this.#finishExchange();
    this.#opts.metrics.streamClosed(this.#processor.name, code, (performance.now() - this.#openedAt) / 1000);
  }
}

function commonResponse(changes: HeaderChanges, clearRouteCache: boolean): CommonResponse {
  const common: CommonResponse = {};
  const mutation = headerMutation(changes);
  if (mutation) common.header_mutation = mutation;
  if (clearRouteCache) common.clear_route_cache = true;
  return common;
}

/** An answer with nothing to change carries no CommonResponse at all: plain CONTINUE. */
function wrap(common: CommonResponse): { response?: CommonResponse } {
  return Object.keys(common).length === 0 ? {} : { response: common };
}

/** A replaced body must travel with its own length: Envoy rejects a BUFFERED body mutation whose content-length disagrees. */
function withContentLength(c: HeaderChanges, length: number): HeaderChanges {
  return { set: { ...c.set, 'content-length': String(length) }, remove: c.remove.filter((h) => h !== 'content-length') };
}

function withMetadata(r: ProcessingResponse, verdict: Extract<RequestVerdict, { kind: 'continue' }>): ProcessingResponse {
  if (verdict.dynamicMetadata) r.dynamic_metadata = toStruct(verdict.dynamicMetadata);
  return r;
}
