/**
 * The memory every request body the gateway holds may take at once, raw bytes and parsed JSON together: a
 * body that does not fit waits, unread (its client is slowed by TCP flow control), until others finish.
 */

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
 * Invariant: the oldest body still being read may always grow, so some body always progresses and the
 * budget cannot deadlock; the others grow only while the total is within the limit. Memory held is thus at
 * most the limit plus one body (bounded by --max-body-bytes and the JSON limits).
 */
export class BodyBudget {
  readonly limit: number;
  #used = 0;
  /** Open leases, oldest first. */
  #leases: Lease[] = [];

  constructor(limitBytes: number) {
    this.limit = limitBytes;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Bodies waiting to read on. */
  get waiting(): number {
    return this.#leases.filter((l) => l.waiter !== undefined).length;
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
        if (lease.bytes <= SMALL_BODY_BYTES || this.#used <= this.limit || this.#oldestReading() === lease) return undefined;
        return new Promise<void>((resolve) => {
          lease.waiter = resolve;
        });
      },
      done: () => {
        if (!lease.reading) return;
        lease.reading = false;
        this.#wake();
      },
      release: () => {
        if (released) return;
        released = true;
        lease.reading = false;
        this.#used -= lease.bytes;
        this.#leases.splice(this.#leases.indexOf(lease), 1);
        // A released body that was waiting must not stay blocked: let its reader see the end.
        this.#resolve(lease);
        this.#wake();
      },
    };
    this.#leases.push(lease);
    return lease;
  }

  #oldestReading(): Lease | undefined {
    return this.#leases.find((l) => l.reading);
  }

  #wake(): void {
    const oldest = this.#oldestReading();
    for (const l of this.#leases) {
      if (l.waiter && (this.#used <= this.limit || l === oldest)) this.#resolve(l);
    }
  }

  #resolve(l: Lease): void {
    const w = l.waiter;
    l.waiter = undefined;
    w?.();
  }
}
