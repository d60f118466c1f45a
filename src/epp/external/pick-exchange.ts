/**
 * One request's ext_proc stream with an external endpoint picker, as Envoy runs it: the request goes out, the
 * decision comes back within the message timeout, the response headers are reported and the picker's changes to
 * them awaited, and the half-close at the end of the response lets the picker run its completion hooks (in-flight
 * counts, llm-d's ResponseComplete).
 */
import { status, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import type { ProcessingRequest, ProcessingResponse } from '../../envoy/processing-messages.js';
import { formatDuration } from '../../upstream/duration.js';
import { AnswerCollector, type PickerAnswer } from './picker-answer.js';
import { requestMessages, responseHeadersMessage, type PickerRequest } from './picker-messages.js';
import { PickerUnavailable } from './picker-unavailable.js';
import { readResponseAnswer, type ResponseChanges } from './response-changes.js';

export type ProcessCall = ClientDuplexStream<ProcessingRequest, ProcessingResponse>;

/** How long a stream may stay open after infergate half-closed it, before it is cancelled: a picker that never ends it must not pin it. */
const CLOSE_GRACE_MS = 10_000;

/** The wait for the answer to the response headers, ended because the request did: nothing to report. */
const ENDED_FIRST: ResponseChanges = { kind: 'unchanged' };

/** Once decided, a picker failure no longer concerns the request: its answers and errors are dropped. */
const IGNORE = (): void => undefined;

export class PickExchange {
  readonly #call: ProcessCall;
  readonly #timeoutMs: number;
  /** Where the current answer goes: the collector while deciding, nothing after. */
  #onData: (r: ProcessingResponse) => void = IGNORE;
  #onStatus: (s: StatusObject) => void = IGNORE;
  #closed = false;
  #halfClosed = false;
  /** Settles the wait for the answer to the response headers, while one is open. */
  #settleResponse: ((c: ResponseChanges) => void) | undefined;

  constructor(call: ProcessCall, timeoutMs: number) {
    this.#call = call;
    this.#timeoutMs = timeoutMs;
    call.on('data', (r: ProcessingResponse) => this.#onData(r));
    // A failed call emits `error` and then `status`; only `status` is read, the error must not go unhandled.
    call.on('error', IGNORE);
    call.on('status', (s: StatusObject) => {
      this.#closed = true;
      this.#onStatus(s);
    });
  }

  /**
   * Sends the request and resolves with the picker's decision. Rejects with PickerUnavailable when the picker
   * is unreachable, fails the stream, ends it undecided, answers outside the protocol, or takes longer than the
   * timeout; the stream is then cancelled. An immediate response ends the stream at once, as Envoy does.
   */
  ask(req: PickerRequest): Promise<PickerAnswer> {
    const collector = new AnswerCollector(req.body !== undefined && req.body.length > 0);
    return new Promise<PickerAnswer>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.#onData = IGNORE;
        this.#onStatus = IGNORE;
      };
      const fail = (e: PickerUnavailable): void => {
        settle();
        this.cancel();
        reject(e);
      };
      const timer = setTimeout(() => fail(new PickerUnavailable(`did not decide within ${formatDuration(this.#timeoutMs)} (--epp-message-timeout)`)), this.#timeoutMs);
      this.#onData = (r) => {
        let answer: PickerAnswer | undefined;
        try {
          answer = collector.add(r);
        } catch (e) {
          fail(e instanceof PickerUnavailable ? e : new PickerUnavailable(`sent an answer infergate could not read: ${(e as Error).message}`));
          return;
        }
        if (!answer) return;
        settle();
        if (answer.kind === 'immediate') this.end();
        resolve(answer);
      };
      this.#onStatus = (s) => fail(new PickerUnavailable(s.code === status.OK ? 'ended the stream without deciding' : `is unavailable (${status[s.code] ?? s.code}: ${grpcDetails(s.details)})`));
      try {
        for (const m of requestMessages(req)) this.#call.write(m);
      } catch (e) {
        fail(new PickerUnavailable(`could not be sent the request: ${(e as Error).message}`));
      }
    });
  }

  /**
   * The endpoint `served` answered with `statusCode`: reported to the picker (`response_headers`, the served
   * endpoint in metadata), and its answer awaited, as Envoy awaits it before the client gets the headers. Never
   * rejects: a picker that cannot answer (the stream ended or failed, the message timeout passed, an answer
   * outside the protocol) resolves `unchanged` with the reason, so the model's answer is never lost for it.
   */
  responseStarted(statusCode: number, rawHeaders: readonly Buffer[], served: string): Promise<ResponseChanges> {
    if (this.#closed || this.#halfClosed) return Promise.resolve({ kind: 'unchanged', why: 'had already ended the stream' });
    return new Promise<ResponseChanges>((resolve) => {
      const settle = (c: ResponseChanges): void => {
        if (this.#settleResponse !== settle) return;
        this.#settleResponse = undefined;
        clearTimeout(timer);
        this.#onData = IGNORE;
        this.#onStatus = IGNORE;
        resolve(c);
      };
      this.#settleResponse = settle;
      const timer = setTimeout(() => settle({ kind: 'unchanged', why: `did not answer the response headers within ${formatDuration(this.#timeoutMs)} (--epp-message-timeout)` }), this.#timeoutMs);
      this.#onData = (r) => {
        let c: ResponseChanges | undefined;
        try {
          c = readResponseAnswer(r);
        } catch (e) {
          settle({ kind: 'unchanged', why: (e as Error).message });
          this.cancel();
          return;
        }
        if (c !== undefined) settle(c);
      };
      this.#onStatus = (s) => settle({ kind: 'unchanged', why: s.code === status.OK ? 'ended the stream without answering the response headers' : `failed before answering the response headers (${status[s.code] ?? s.code}: ${grpcDetails(s.details)})` });
      try {
        this.#call.write(responseHeadersMessage(statusCode, rawHeaders, served));
      } catch (e) {
        settle({ kind: 'unchanged', why: `could not be sent the response headers: ${(e as Error).message}` });
      }
    });
  }

  /** The request is over (answered, failed, or abandoned): half-close, as Envoy does when the HTTP stream ends. */
  end(): void {
    this.#settleResponse?.(ENDED_FIRST);
    if (this.#closed || this.#halfClosed) return;
    this.#halfClosed = true;
    this.#call.end();
    const timer = setTimeout(() => this.cancel(), CLOSE_GRACE_MS);
    timer.unref();
    this.#onStatus = () => clearTimeout(timer);
  }

  /** Abandons the stream (the client left before the decision, or the picker is given up on). */
  cancel(): void {
    this.#settleResponse?.(ENDED_FIRST);
    if (this.#closed) return;
    this.#closed = true;
    this.#call.cancel();
  }
}

/** grpc-js's details without its empty trailer (`... Resolution note: `). */
function grpcDetails(details: string): string {
  return details.replace(/\.? Resolution note: ?$/, '');
}
