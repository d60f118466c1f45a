/**
 * A hash map from a pair of int32 to an int32, in one typed array (open addressing, linear probing,
 * backward-shift deletion). Millions of entries cost the garbage collector nothing to trace and a lookup
 * touches one cache line, where a JS Map of objects costs several.
 */

const STRIDE = 4; // a, b, value + 1 (0 = empty slot), padding: one 16-byte slot per entry

export class IntPairMap {
  #t: Int32Array;
  #mask: number;
  #size = 0;

  constructor(initialSlots = 1024) {
    let slots = 16;
    while (slots < initialSlots) slots *= 2;
    this.#t = new Int32Array(slots * STRIDE);
    this.#mask = slots - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** The value, or -1. */
  get(a: number, b: number): number {
    const t = this.#t;
    for (let i = home(a, b, this.#mask); ; i = (i + 1) & this.#mask) {
      const at = i * STRIDE;
      const v = t[at + 2] as number;
      if (v === 0) return -1;
      if (t[at] === a && t[at + 1] === b) return v - 1;
    }
  }

  /** Inserts or replaces; `value` must be >= 0. */
  set(a: number, b: number, value: number): void {
    const t = this.#t;
    for (let i = home(a, b, this.#mask); ; i = (i + 1) & this.#mask) {
      const at = i * STRIDE;
      const v = t[at + 2] as number;
      if (v === 0) {
        t[at] = a;
        t[at + 1] = b;
        t[at + 2] = value + 1;
        // Half full at most: probe runs stay short.
        if (++this.#size * 2 > this.#mask + 1) this.#grow();
        return;
      }
      if (t[at] === a && t[at + 1] === b) {
        t[at + 2] = value + 1;
        return;
      }
    }
  }

  delete(a: number, b: number): boolean {
    const t = this.#t;
    const mask = this.#mask;
    let i = home(a, b, mask);
    for (; ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      if (t[at + 2] === 0) return false;
      if (t[at] === a && t[at + 1] === b) break;
    }
    // Backward-shift: pull later entries of the probe run into the hole so lookups never stop early.
    for (let j = (i + 1) & mask; t[j * STRIDE + 2] !== 0; j = (j + 1) & mask) {
      const k = home(t[j * STRIDE] as number, t[j * STRIDE + 1] as number, mask);
      const movable = i <= j ? k <= i || k > j : k <= i && k > j;
      if (movable) {
        t.copyWithin(i * STRIDE, j * STRIDE, j * STRIDE + STRIDE);
        i = j;
      }
    }
    t.fill(0, i * STRIDE, i * STRIDE + STRIDE);
    this.#size--;
    return true;
  }

  #grow(): void {
    const old = this.#t;
    this.#t = new Int32Array(old.length * 2);
    this.#mask = this.#mask * 2 + 1;
    this.#size = 0;
    for (let at = 0; at < old.length; at += STRIDE) {
      const v = old[at + 2] as number;
      if (v !== 0) this.set(old[at] as number, old[at + 1] as number, v - 1);
    }
  }
}

function home(a: number, b: number, mask: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ (b >>> 15), 0x85ebca6b);
  h ^= h >>> 16;
  return h & mask;
}
