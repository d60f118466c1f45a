/** The memory all request bodies held at once may take, raw and parsed: a body that does not fit waits, unread, until others finish. */

import { LiveList } from '../live-list.js';

/** Bodies up to this size never wait: small requests pass even while large ones queue. */
export const SMALL_BODY_BYTES = 64 * 1024;

/** One request's share: grows as its body arrives, released when its response ends. */
export interface BodyLease {
  /**
   * Adds `bytes`; a promise when the body must wait before reading more (resolved when it may go on),
   * else undefined.
   */
  grow(bytes: number): Promise<void> | undefined;
  /** The whole body arrived: it holds its bytes until released, and no longer counts as reading. */
  done(): void;
  /** The response ended (or the request failed): its bytes are free. Idempotent. */
  release(): void;
}

interface Lease extends BodyLease {
  bytes: number;
  reading: boolean;
  waiter: (() => void) | undefined;
}

/**
 * Invariant: a body grows while the total is within the limit; past it, only the oldest body still being
 * read may grow, and only while the bodies already read (held until their responses end, which needs no
 * budget) are within the limit. So some body always progresses and reading bodies cannot deadlock, and
 * memory held is at most the limit plus one body (bounded by --max-body-bytes and the JSON limits) and the
 * first SMALL_BODY_BYTES of each body waiting.
 */
export class BodyBudget {
  readonly limit: number;
  #used = 0;
  /** Bytes of bodies read whole, held until their responses end. */
  #held = 0;
  /** Open leases, oldest first; a list rather than a Set, since one comes and goes per large body (src/live-list.ts). */
  readonly #leases = new LiveList<Lease>();
  /** Leases waiting for budget: while none is, a body's end or release has nobody to wake. */
  #waiters = 0;

  constructor(limitBytes: number) {
    this.limit = limitBytes;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Bodies waiting to read on. */
  get waiting(): number {
    return this.#waiters;
  }

  /**
   * Counts a body of known size up to SMALL_BODY_BYTES as held from the start: such a body never waits, so it
   * needs no lease, only its bytes counted until the returned function releases them (once).
   */
  hold(bytes: number): () => void {
    this.#used += bytes;
    this.#held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= bytes;
      this.#held -= bytes;
      this.#wake();
    };
  }

  open(): BodyLease {
    let released = false;
    const lease: Lease = {
      bytes: 0,
      reading: true,
      waiter: undefined,
      grow: (bytes) => {
        if (released) return undefined;
        lease.bytes += bytes;
        this.#used += bytes;
        if (lease.bytes <= SMALL_BODY_BYTES || this.#mayGrow(lease)) return undefined;
        return new Promise<void>((resolve) => {
          lease.waiter = resolve;
          this.#waiters++;
        });
      },
      done: () => {
        if (!lease.reading) return;
        lease.reading = false;
        this.#held += lease.bytes;
        this.#wake();
      },
      release: () => {
        if (released) return;
        released = true;
        if (!lease.reading) this.#held -= lease.bytes;
        lease.reading = false;
        this.#used -= lease.bytes;
        this.#leases.remove(node);
        // A released body that was waiting must not stay blocked: let its reader see the end.
        this.#resolve(lease);
        this.#wake();
      },
    };
    const node = this.#leases.add(lease);
    return lease;
  }

  #oldestReading(): Lease | undefined {
    return this.#leases.find(isReading);
  }

  #mayGrow(l: Lease): boolean {
    return this.#used <= this.limit || (this.#held <= this.limit && this.#oldestReading() === l);
  }

  #wake(): void {
    if (this.#waiters === 0) return;
    for (const l of this.#leases) if (l.waiter && this.#mayGrow(l)) this.#resolve(l);
  }

  #resolve(l: Lease): void {
    const w = l.waiter;
    if (w === undefined) return;
    l.waiter = undefined;
    this.#waiters--;
    w();
  }
}

const isReading = (l: Lease): boolean => l.reading;
