/** Reads the `id` of a Responses API answer from its first bytes as they pass to the client, whole or streamed. */

/** What reads a response body as it passes (src/upstream/send-attempt.ts ResponseTarget's `tap`). */
export interface BodyTap {
  chunk(data: Buffer): void;
}

/**
 * How far into the answer the id is looked for. It is the first `"id"` of both shapes: the response object
 * starts with it, and a stream's first event (`response.created`) carries that object.
 */
const HEAD_BYTES = 4096;
/** The first `"id": "..."` whose value is complete; ids with escapes or over 256 characters are not taken. */
const ID = /"id"\s*:\s*"([^"\\]{1,256})"/;

/** Passes every chunk on to `next` (the observers' tap), after looking for the id in the answer's first bytes. */
export class ResponseIdTap implements BodyTap {
  readonly #onId: (id: string) => void;
  readonly #next: BodyTap | undefined;
  /** The answer's first bytes so far (by reference while they are one chunk); undefined once decided. */
  #head: Buffer | undefined = Buffer.alloc(0);

  constructor(onId: (id: string) => void, next?: BodyTap) {
    this.#onId = onId;
    this.#next = next;
  }

  chunk(data: Buffer): void {
    if (this.#head !== undefined) this.#look(data);
    this.#next?.chunk(data);
  }

  #look(data: Buffer): void {
    const kept = this.#head!;
    const room = HEAD_BYTES - kept.length;
    const head = kept.length === 0 ? data.subarray(0, room) : Buffer.concat([kept, data.subarray(0, room)]);
    const m = ID.exec(head.toString('latin1'));
    if (m) {
      this.#head = undefined;
      this.#onId(m[1]!);
      return;
    }
    this.#head = head.length >= HEAD_BYTES ? undefined : head;
  }
}
