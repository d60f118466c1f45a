/** Cancels a request's upstream attempt in flight, whichever attempt is current: one per request, no listeners. */
import { errors } from 'undici';

/**
 * Why a request was cancelled: its client left (not the endpoint's fault), its upstream timeout passed, or its
 * answer was replaced before the client got it (an external endpoint picker's immediate response to the
 * response headers: the rest of the endpoint's answer is not wanted, and says nothing about the endpoint).
 */
export type CancelCause = 'client' | 'deadline' | 'replaced';

/**
 * The request's side says stop (its client left, its upstream timeout passed): the current attempt is aborted
 * at once, and one that starts afterwards is aborted as soon as it connects. Cheaper per request than an
 * AbortController or an EventEmitter signal: undici hands each attempt an `abort` function, kept here.
 */
export class Cancellation {
  /**
   * Why, once cancelled. A client that leaves after the deadline passed still makes it `client`: nobody is left
   * to answer, and a client's leaving says nothing about the endpoint.
   */
  cause: CancelCause | undefined;
  #abort: ((err: Error) => void) | undefined;
  #reason: Error | undefined;

  get cancelled(): boolean {
    return this.#reason !== undefined;
  }

  cancel(cause: CancelCause, reason: Error = new errors.RequestAbortedError()): void {
    if (this.#reason !== undefined) {
      if (cause === 'client') this.cause = cause;
      return;
    }
    this.cause = cause;
    this.#reason = reason;
    const abort = this.#abort;
    this.#abort = undefined;
    abort?.(reason);
  }

  /** An attempt connected: `abort` cancels it (at once when the request was already cancelled). */
  bind(abort: (err: Error) => void): void {
    if (this.#reason !== undefined) abort(this.#reason);
    else this.#abort = abort;
  }

  /** The attempt ended. */
  unbind(): void {
    this.#abort = undefined;
  }
}
