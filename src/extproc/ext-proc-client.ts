/**
 * A small ext_proc client built from the same protos, for tests and the benchmark: it plays the data
 * plane's side of a stream (Envoy's messages, built by the helpers below) and reads the answers in order.
 */
import { Metadata as GrpcMetadata, credentials, type ChannelCredentials, type Client, type ClientDuplexStream, type ClientReadableStream, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { BodySendMode, HeaderValue, Metadata, ProcessingRequest, ProcessingResponse } from '../envoy/processing-messages.js';
import { extProcGrpcObject } from '../envoy/protos.js';
import { toStruct, type JsonValue } from '../envoy/struct-value.js';

type ProcessClient = Client & { Process(metadata?: GrpcMetadata): ClientDuplexStream<ProcessingRequest, ProcessingResponse> };
type HealthStub = Client & {
  Check(req: { service: string }, cb: (err: ServiceError | null, res?: { status?: string }) => void): void;
  Watch(req: { service: string }): ClientReadableStream<{ status?: string }>;
};

interface ClientCtor<T> {
  new (address: string, creds: ChannelCredentials, options?: object): T;
}

function ctor<T>(path: string): ClientCtor<T> {
  let o: unknown = extProcGrpcObject();
  for (const part of path.split('.')) o = (o as Record<string, unknown>)[part];
  return o as ClientCtor<T>;
}

export interface ClientTls {
  /** PEM of the certificate (or CA) to trust. */
  rootCert: string;
}

function channelCredentials(tls?: ClientTls): ChannelCredentials {
  return tls ? credentials.createSsl(Buffer.from(tls.rootCert)) : credentials.createInsecure();
}

/** With TLS, verify the name `localhost` (in the self-signed certificate) rather than send an IP as SNI, which TLS forbids. */
function channelOptions(tls?: ClientTls): Record<string, string | number> {
  return { 'grpc.max_receive_message_length': 64 * 1024 * 1024, ...(tls ? { 'grpc.ssl_target_name_override': 'localhost' } : {}) };
}

export class ExtProcClient {
  readonly #client: ProcessClient;

  constructor(address: string, tls?: ClientTls) {
    const Ctor = ctor<ProcessClient>('envoy.service.ext_proc.v3.ExternalProcessor');
    this.#client = new Ctor(address, channelCredentials(tls), channelOptions(tls));
  }

  /** Opens one stream (one HTTP request); `metadata` is the stream's initial metadata. */
  open(metadata: Record<string, string> = {}): ProcessingStreamClient {
    const md = new GrpcMetadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new ProcessingStreamClient(this.#client.Process(md));
  }

  close(): void {
    this.#client.close();
  }
}

/** One stream: `send` Envoy's messages, `next` the server's answers in order, `status` when it ends. */
export class ProcessingStreamClient {
  readonly call: ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  readonly #queue: ProcessingResponse[] = [];
  #waiters: ((r: ProcessingResponse | undefined) => void)[] = [];
  #ended = false;
  readonly status: Promise<StatusObject>;

  constructor(call: ClientDuplexStream<ProcessingRequest, ProcessingResponse>) {
    this.call = call;
    call.on('data', (r: ProcessingResponse) => {
      const w = this.#waiters.shift();
      if (w) w(r);
      else this.#queue.push(r);
    });
    const done = (): void => {
      this.#ended = true;
      for (const w of this.#waiters) w(undefined);
      this.#waiters = [];
    };
    this.status = new Promise((resolve) => call.on('status', (s: StatusObject) => resolve(s)));
    call.on('end', done);
    // A cancelled or failed call reports through `status`; the error event must not go unhandled.
    call.on('error', done);
  }

  send(...messages: ProcessingRequest[]): this {
    for (const m of messages) this.call.write(m);
    return this;
  }

  /** The next answer; rejects when the stream ends first or none comes within `timeoutMs`. */
  next(timeoutMs = 5000): Promise<ProcessingResponse> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#ended) return Promise.reject(new Error('the stream ended before another answer'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (r: ProcessingResponse | undefined): void => {
        clearTimeout(timer);
        if (r) resolve(r);
        else reject(new Error('the stream ended before another answer'));
      };
      this.#waiters.push(waiter);
    });
  }

  /** Answers already received and not yet taken by `next`. */
  pending(): readonly ProcessingResponse[] {
    return this.#queue;
  }

  /** Half-closes, as Envoy does when the HTTP stream is over. */
  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}

export class HealthClient {
  readonly #client: HealthStub;
  constructor(address: string, tls?: ClientTls) {
    const Ctor = ctor<HealthStub>('grpc.health.v1.Health');
    this.#client = new Ctor(address, channelCredentials(tls), channelOptions(tls));
  }

  /** The status name (`SERVING`, `NOT_SERVING`), or the gRPC error for an unknown service. */
  check(service: string): Promise<string> {
    return new Promise((resolve, reject) => this.#client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res?.status ?? 'UNKNOWN'))));
  }

  /** Streams every status `Watch` reports to `onStatus`; call the returned function to stop. */
  watch(service: string, onStatus: (status: string) => void): () => void {
    const call = this.#client.Watch({ service });
    call.on('data', (r: { status?: string }) => onStatus(r.status ?? 'UNKNOWN'));
    call.on('error', () => undefined);
    return () => call.cancel();
  }

  close(): void {
    this.#client.close();
  }
}

// Builders of the messages Envoy sends.

export function headerMap(headers: Record<string, string>): { headers: HeaderValue[] } {
  return { headers: Object.entries(headers).map(([key, v]) => ({ key: key.toLowerCase(), raw_value: Buffer.from(v) })) };
}

/** namespace -> Struct as JSON, as a message's metadata_context.filter_metadata. */
function metadataContext(metadata: Record<string, Record<string, JsonValue>>): Metadata {
  return { filter_metadata: Object.fromEntries(Object.entries(metadata).map(([ns, v]) => [ns, toStruct(v)])) };
}

export interface EnvoyMessageOptions {
  /** Sent on the first message only, as Envoy does. */
  protocol?: { request?: BodySendMode; response?: BodySendMode };
  /** namespace -> Struct as JSON, sent as metadata_context.filter_metadata. */
  metadata?: Record<string, Record<string, JsonValue>>;
}

export function requestHeaders(headers: Record<string, string>, endOfStream: boolean, opts: EnvoyMessageOptions = {}): ProcessingRequest {
  const m: ProcessingRequest = { request_headers: { headers: headerMap(headers), ...(endOfStream ? { end_of_stream: true } : {}) } };
  if (opts.protocol) m.protocol_config = { request_body_mode: opts.protocol.request ?? 'NONE', response_body_mode: opts.protocol.response ?? 'NONE' };
  if (opts.metadata) m.metadata_context = metadataContext(opts.metadata);
  return m;
}

export function requestBody(body: Buffer | string, endOfStream: boolean): ProcessingRequest {
  return { request_body: { body: Buffer.from(body), ...(endOfStream ? { end_of_stream: true } : {}) } };
}

/** The body split as Envoy forwards it in streamed modes, end_of_stream on the last chunk (unless trailers follow). */
export function requestBodyChunks(body: Buffer | string, chunkBytes: number, endOfStream = true): ProcessingRequest[] {
  const b = Buffer.from(body);
  const out: ProcessingRequest[] = [];
  for (let off = 0; off < b.length; off += chunkBytes) out.push(requestBody(b.subarray(off, off + chunkBytes), endOfStream && off + chunkBytes >= b.length));
  return out;
}

export function requestTrailers(trailers: Record<string, string>): ProcessingRequest {
  return { request_trailers: { trailers: headerMap(trailers) } };
}

export function responseHeaders(headers: Record<string, string>, endOfStream: boolean, metadata?: Record<string, Record<string, JsonValue>>): ProcessingRequest {
  const m: ProcessingRequest = { response_headers: { headers: headerMap(headers), ...(endOfStream ? { end_of_stream: true } : {}) } };
  if (metadata) m.metadata_context = metadataContext(metadata);
  return m;
}

export function responseBody(body: Buffer | string, endOfStream: boolean): ProcessingRequest {
  return { response_body: { body: Buffer.from(body), ...(endOfStream ? { end_of_stream: true } : {}) } };
}

export function responseTrailers(trailers: Record<string, string>): ProcessingRequest {
  return { response_trailers: { trailers: headerMap(trailers) } };
}

/** Applies a headers answer's mutation to a header set, as Envoy does before the next filter (removals, then sets). */
export function applyHeaderMutation(headers: Record<string, string>, r: ProcessingResponse): Record<string, string> {
  const common = r.request_headers?.response ?? r.request_body?.response;
  const m = common?.header_mutation;
  const out = { ...headers };
  for (const name of m?.remove_headers ?? []) delete out[name];
  for (const o of m?.set_headers ?? []) out[o.header.key] = o.header.raw_value ? Buffer.from(o.header.raw_value).toString('utf8') : (o.header.value ?? '');
  return out;
}
