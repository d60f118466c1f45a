/** The FCFS waiting queue: arrivals at the back, preempted sequences back at the front, a bounded length. */
import type { Sequence } from './sequence.js';

/** Thrown by `Engine.submit` when the waiting queue is full; the HTTP side answers 429. */
export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`the waiting queue is full (${limit} requests); retry later or on another replica`);
    this.name = 'QueueFullError';
  }
}

/** Sequences in arrival order. The planner walks it by index, skipping some, and removes the ones it admits. */
export class WaitingQueue {
  readonly limit: number;
  readonly #items: Sequence[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get length(): number {
    return this.#items.length;
  }

  at(i: number): Sequence | undefined {
    return this.#items[i];
  }

  /**
   * Whether an arrival finds no room. Requests that free running slots will take at the next step do not
   * count against the limit, so `maxWaitingQueueLength` is what waits beyond a full batch.
   */
  isFull(freeSlots: number): boolean {
    return this.#items.length - Math.max(0, freeSlots) >= this.limit;
  }

  push(seq: Sequence): void {
    this.#items.push(seq);
  }

  /** A preempted sequence goes first, as in vLLM; it was admitted once, so the limit does not apply. */
  unshift(seq: Sequence): void {
    this.#items.unshift(seq);
  }

  removeAt(i: number): void {
    this.#items.splice(i, 1);
  }

  remove(seq: Sequence): void {
    const i = this.#items.indexOf(seq);
    if (i >= 0) this.#items.splice(i, 1);
  }

  /** Distinct adapters of waiting requests, in queue order, for `waiting_lora_adapters`. */
  adapters(): string[] {
    const names = new Set<string>();
    for (const seq of this.#items) if (seq.req.lora !== null) names.add(seq.req.lora);
    return [...names];
  }

  /** Empties the queue, returning what was in it. */
  drain(): Sequence[] {
    return this.#items.splice(0);
  }
}
