/**
 * The gateway's ext_proc clients of external endpoint pickers: one long-lived gRPC channel per picker address
 * (HTTP/2, its requests multiplexed as streams, as Envoy's ext_proc cluster), one stream per request.
 */
import { Metadata, credentials, type ChannelCredentials, type Client } from '@grpc/grpc-js';
import { extProcGrpcObject } from '../../envoy/protos.js';
import { POOL_GRPC_METADATA_KEY } from '../../envoy/pool-metadata-keys.js';
import type { Logger } from '../../logger.js';
import type { FailureMode } from '../failure-mode.js';
import type { ExternalPickerRef } from '../picker-ref.js';
import { PickExchange, type ProcessCall } from './pick-exchange.js';
import type { PickerAddress } from './picker-address.js';

export interface ExternalPickerOptions {
  /** From sending a request to the picker's decision (Envoy's ext_proc `message_timeout`); past it, the pool's failureMode. */
  messageTimeoutMs: number;
  /** Speak plaintext gRPC (h2c); by default TLS, as GIE's and llm-d's EPPs serve (`--secure-serving`). */
  plaintext: boolean;
  /**
   * PEM of the CA that signed the pickers' certificates: verified, with the name `NAME.NAMESPACE.svc`. Unset:
   * TLS without verification, as Gateway implementations treat the EPP's self-signed certificate.
   */
  caPem?: string;
  /**
   * Envoy's `processing_mode.response_header_mode`: `SEND` (GIE's and llm-d's Envoy configurations) reports the
   * endpoint's response headers to the picker and waits for its answer before the client gets them; `SKIP` sends
   * them not, for pickers deployed behind an Envoy that skips them (nothing waits). A picker can also ask to skip
   * them for one request with `mode_override`.
   */
  responseHeaderMode: 'SEND' | 'SKIP';
}

/**
 * 10 s: a picker that answers at all answers in milliseconds, and a hung one must not hold requests for long.
 * A picker that queues requests (llm-d's flow control, 60 s by default) needs it raised past its queue TTL.
 */
export const DEFAULT_EXTERNAL_PICKER_OPTIONS: ExternalPickerOptions = { messageTimeoutMs: 10_000, plaintext: false, responseHeaderMode: 'SEND' };

/** A picker failing on every request must not write a log line per request. */
const FAILURE_LOG_INTERVAL_MS = 10_000;

type ProcessClient = Client & { Process(metadata?: Metadata): ProcessCall };
type ProcessClientCtor = new (target: string, creds: ChannelCredentials, options?: object) => ProcessClient;

let processClientCtor: ProcessClientCtor | undefined;

function clientCtor(): ProcessClientCtor {
  if (!processClientCtor) {
    let o: unknown = extProcGrpcObject();
    for (const part of 'envoy.service.ext_proc.v3.ExternalProcessor'.split('.')) o = (o as Record<string, unknown>)[part];
    processClientCtor = o as ProcessClientCtor;
  }
  return processClientCtor;
}

export class ExternalPickers {
  readonly options: ExternalPickerOptions;
  readonly #log: Logger;
  /** `target serviceHost` -> its client (one channel). */
  #clients = new Map<string, ProcessClient>();
  readonly #failureLogged = new Map<string, { at: number; since: number }>();
  readonly #responseLogged = new Map<string, { at: number; since: number }>();

  constructor(options: Partial<ExternalPickerOptions>, log: Logger) {
    this.options = { ...DEFAULT_EXTERNAL_PICKER_OPTIONS, ...options };
    this.#log = log;
  }

  /**
   * Opens one request's stream to the picker at `address`, naming the pool in the gRPC metadata
   * `x-infergate-inference-pool` (how infergate's own `extproc` serves many pools; other pickers ignore it).
   */
  open(address: PickerAddress, pool: string): PickExchange {
    const md = new Metadata();
    md.set(POOL_GRPC_METADATA_KEY, pool);
    return new PickExchange(this.#client(address).Process(md), this.options.messageTimeoutMs);
  }

  /** Closes the channels of pickers no pool names any more. */
  retain(refs: Iterable<{ address: PickerAddress }>): void {
    const keep = new Set<string>();
    for (const r of refs) keep.add(keyOf(r.address));
    for (const [key, client] of this.#clients) {
      if (keep.has(key)) continue;
      this.#clients.delete(key);
      client.close();
    }
  }

  /** Logs a picker failure at most once per pool every 10 s, with the count of failures in between. */
  failed(pool: string, ref: ExternalPickerRef, mode: FailureMode, error: Error): void {
    const outcome = mode === 'FailOpen' ? 'FailOpen: infergate picks instead' : 'FailClose: refused with 503 endpoint_picker_unavailable';
    this.#throttled(this.#failureLogged, pool, (since) => {
      this.#log.error(`the endpoint picker of InferencePool ${pool} (${ref.service}, ext_proc at ${ref.address.target}) ${error.message}; ${outcome}`, since);
    });
  }

  /**
   * Logs, at most once per pool and kind every 10 s, a picker's answer to the response headers that could not be used in
   * full (`problem`: it gave none in time, or changes infergate does not let a picker make); the client still gets
   * the endpoint's answer.
   */
  responseProblem(pool: string, ref: ExternalPickerRef, kind: 'unanswered' | 'skipped', problem: string): void {
    this.#throttled(this.#responseLogged, `${kind} ${pool}`, (since) => {
      this.#log.warn(`the endpoint picker of InferencePool ${pool} (${ref.service}, ext_proc at ${ref.address.target}) ${problem}`, since);
    });
  }

  #throttled(logged: Map<string, { at: number; since: number }>, key: string, write: (fields: Record<string, unknown>) => void): void {
    const now = Date.now();
    const last = logged.get(key);
    if (last && now - last.at < FAILURE_LOG_INTERVAL_MS) {
      last.since++;
      return;
    }
    logged.set(key, { at: now, since: 0 });
    write(last && last.since > 0 ? { failures_since_last_logged: last.since } : {});
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }

  #client(address: PickerAddress): ProcessClient {
    const key = keyOf(address);
    let c = this.#clients.get(key);
    if (!c) {
      const Ctor = clientCtor();
      c = new Ctor(address.target, this.#credentials(), this.#channelOptions(address));
      this.#clients.set(key, c);
    }
    return c;
  }

  #credentials(): ChannelCredentials {
    if (this.options.plaintext) return credentials.createInsecure();
    if (this.options.caPem !== undefined) return credentials.createSsl(Buffer.from(this.options.caPem));
    return credentials.createSsl(null, null, null, { rejectUnauthorized: false });
  }

  #channelOptions(address: PickerAddress): Record<string, string | number> {
    return {
      // Bodies come back from FULL_DUPLEX_STREAMED pickers in chunks; their immediate responses are small.
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // A picker back from a restart is called again within seconds, not after grpc-js's 2-minute backoff ceiling.
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 5000,
      // The TLS name is the Service's (never the IP, which TLS forbids as SNI); verified only with a CA.
      ...(this.options.plaintext ? {} : { 'grpc.ssl_target_name_override': address.serviceHost }),
    };
  }
}

function keyOf(a: PickerAddress): string {
  return `${a.target} ${a.serviceHost}`;
}
