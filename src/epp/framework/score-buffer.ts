/** A scorer's reusable result array: the Scorer contract lets callers read scores only until the next call. */

export class ScoreBuffer {
  #buf = new Float64Array(16);
  #view = this.#buf.subarray(0, 0);

  /** `n` scores, all 0, in the same memory as the previous call's (no allocation on the hot path). */
  zeros(n: number): Float64Array {
    if (this.#buf.length < n) {
      this.#buf = new Float64Array(Math.max(n, this.#buf.length * 2));
      this.#view = this.#buf.subarray(0, n);
    } else if (this.#view.length !== n) this.#view = this.#buf.subarray(0, n);
    return this.#view.fill(0);
  }
}
