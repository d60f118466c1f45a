/**
 * An insertion-ordered collection for members that come and go once per request or connection: what is in
 * flight. A `Set` or `Map` would do the same job, but not on the hot path. V8 stores them in hash tables that
 * are rebuilt every so many additions and removals, and each table it replaces keeps its members and a link to
 * its successor (for iterators still walking it). Once one such table has reached the old generation (a full
 * collection moves what is live there), the scavenger treats its links as roots: every later table, and every
 * member any of them held, then survives each scavenge and is copied into the old generation, until the next
 * full collection. On the gateway that was every request's objects, 2.2 MB a scavenge, and scavenges about 4x as
 * long (docs/benchmarks.md, "The garbage-collector state explained"). Here a removed node drops every link it
 * had, so nothing it held outlives it.
 */

/** A member's place in the list: give it back to {@link LiveList.remove}. */
export interface LiveNode<T> {
  /** The member; undefined once removed. */
  value: T | undefined;
  prev: LiveNode<T> | undefined;
  next: LiveNode<T> | undefined;
}

export class LiveList<T> implements Iterable<T> {
  #first: LiveNode<T> | undefined;
  #last: LiveNode<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds `value` last (a value may be added more than once: each add is its own node). */
  add(value: T): LiveNode<T> {
    const node: LiveNode<T> = { value, prev: this.#last, next: undefined };
    if (this.#last === undefined) this.#first = node;
    else this.#last.next = node;
    this.#last = node;
    this.#size++;
    return node;
  }

  /** Removes the node `add` returned. Idempotent: a node already removed is left alone. */
  remove(node: LiveNode<T>): void {
    if (node.value === undefined) return;
    const { prev, next } = node;
    if (prev === undefined) this.#first = next;
    else prev.next = next;
    if (next === undefined) this.#last = prev;
    else next.prev = prev;
    // The point of this class: a removed node, dead or not, keeps nothing alive.
    node.value = undefined;
    node.prev = undefined;
    node.next = undefined;
    this.#size--;
  }

  /** The oldest member `matches` accepts (nothing is copied; `matches` must not change the list). */
  find(matches: (value: T) => boolean): T | undefined {
    for (let node = this.#first; node !== undefined; node = node.next) if (matches(node.value!)) return node.value;
    return undefined;
  }

  /**
   * The members as they are now, oldest first: a copy, so the list may change while the caller goes through it
   * (for the rare paths that go through it: a drain, a body budget over its limit).
   */
  values(): T[] {
    const out: T[] = [];
    for (let node = this.#first; node !== undefined; node = node.next) out.push(node.value!);
    return out;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.values()[Symbol.iterator]();
  }
}
