/** The external endpoint picker gave no usable decision: the pool's failureMode decides what happens to the request. */

/**
 * Unreachable, too slow (`--epp-message-timeout`), the stream failed, or an answer outside GIE's protocol. The
 * message completes "the endpoint picker ...": `did not answer within 10s`, `is unreachable: ...`.
 */
export class PickerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickerUnavailable';
  }
}
