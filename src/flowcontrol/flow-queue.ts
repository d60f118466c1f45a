/** The queue of one flow (fairness ID x priority), kept in its ordering policy's order. */
import type { OrderingPolicy } from './ordering-policy.js';
import type { QueuedRequest } from './queued-request.js';

/** Past this many removed requests still held, the array is compacted (they are skipped until then). */
const COMPACT_AT = 64;

export class FlowQueue {
  readonly fairnessId: string;
  readonly priority: number;
  /** When this flow first queued in its band, relative to the band's other flows (round-robin turns). */
  readonly order: number;
  readonly #ordering: OrderingPolicy;
  /** Sorted by the ordering policy; requests no longer queued are skipped, then compacted away. */
  #items: QueuedRequest[] = [];
  #head = 0;
  #length = 0;
  #bytes = 0;

  constructor(fairnessId: string, priority: number, ordering: OrderingPolicy, order = 0) {
    this.fairnessId = fairnessId;
    this.priority = priority;
    this.order = order;
    this.#ordering = ordering;
  }

  /** Requests waiting. */
  get length(): number {
    return this.#length;
  }

  /** Body bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  add(r: QueuedRequest): void {
    const items = this.#items;
    // FCFS (and EDF with one TTL) always appends: the binary search is for the other orders.
    let lo = this.#head;
    let hi = items.length;
    if (hi > lo && this.#ordering.compare(items[hi - 1]!, r) > 0) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.#ordering.compare(items[mid]!, r) <= 0) lo = mid + 1;
        else hi = mid;
      }
      items.splice(lo, 0, r);
    } else items.push(r);
    this.#length++;
    this.#bytes += r.bytes;
  }

  /** The request this flow would dispatch next, without removing it. */
  peek(): QueuedRequest | undefined {
    const items = this.#items;
    while (this.#head < items.length && items[this.#head]!.state !== 'queued') this.#head++;
    return items[this.#head];
  }

  /** Removes and returns the head. */
  take(): QueuedRequest | undefined {
    const r = this.peek();
    if (!r) return undefined;
    this.#head++;
    this.#forget(r);
    return r;
  }

  /** A request that left before dispatch (TTL, client gone): its counts go now, its slot when skipped. */
  removed(r: QueuedRequest): void {
    this.#forget(r);
    if (this.#items.length - this.#head - this.#length > COMPACT_AT) {
      this.#items = this.#items.filter((x, i) => i >= this.#head && x.state === 'queued');
      this.#head = 0;
    }
  }

  /** Every request still waiting, in order. */
  *queued(): IterableIterator<QueuedRequest> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const r = this.#items[i]!;
      if (r.state === 'queued') yield r;
    }
  }

  #forget(r: QueuedRequest): void {
    this.#length--;
    this.#bytes -= r.bytes;
    if (this.#length === 0) {
      this.#items = [];
      this.#head = 0;
    }
  }
}
