/** Per-second request counts, errors and TTFT of the last minutes, in a fixed ring: what the dashboard charts. */

/**
 * TTFT histogram bounds in seconds (upper bounds; the last bucket takes the rest). Coarser than the Prometheus
 * histograms: the dashboard shows trends, Grafana the exact quantiles.
 */
export const TTFT_BOUNDS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60];
const BINS = TTFT_BOUNDS_S.length + 1;

/** Distinct error codes tracked by name; later ones count as `other` (codes come from a catalogue, so this is a guard). */
export const MAX_ERROR_CODES = 64;

/** One chart's points, oldest first; `t` holds each point's start (seconds since the epoch). */
export interface TrafficSeries {
  stepS: number;
  t: number[];
  requests: number[];
  errors: number[];
  /** null where the step had no successful request to time. */
  ttftP50Ms: (number | null)[];
  ttftP95Ms: (number | null)[];
}

export interface TrafficTotals {
  requests: number;
  errors: number;
  /** Error code -> count, largest first. */
  errorCodes: [string, number][];
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

/**
 * A ring of `capacity` one-second slots, each stamped with the second it holds: a slot whose stamp is not the
 * second asked for is empty (it was last written a lap ago). Recording is O(1) with no allocation; memory is
 * fixed at construction (plus one counter array per distinct error code, at most MAX_ERROR_CODES + 1).
 */
export class RequestBuckets {
  readonly capacity: number;
  readonly #stamp: Float64Array;
  readonly #requests: Uint32Array;
  readonly #errors: Uint32Array;
  readonly #ttft: Uint32Array;
  readonly #codes = new Map<string, Uint32Array>();

  constructor(capacitySeconds = 600) {
    if (!Number.isInteger(capacitySeconds) || capacitySeconds < 1) throw new RangeError('capacitySeconds must be a positive integer');
    this.capacity = capacitySeconds;
    this.#stamp = new Float64Array(capacitySeconds).fill(-1);
    this.#requests = new Uint32Array(capacitySeconds);
    this.#errors = new Uint32Array(capacitySeconds);
    this.#ttft = new Uint32Array(capacitySeconds * BINS);
  }

  /**
   * Counts one finished request at `nowMs` (ms since the epoch): `errorCode` when it failed, `ttftS` (seconds)
   * when it succeeded and its first token was timed.
   */
  record(nowMs: number, errorCode?: string, ttftS?: number): void {
    const slot = this.#slot(Math.floor(nowMs / 1000));
    this.#requests[slot]!++;
    if (errorCode !== undefined) {
      this.#errors[slot]!++;
      this.#codeCounts(errorCode)[slot]!++;
    }
    if (ttftS !== undefined && ttftS >= 0) this.#ttft[slot * BINS + binOf(ttftS)]!++;
  }

  /** The last `windowS` seconds up to `nowMs`, in points of `stepS` seconds each (the window is rounded up to whole steps). */
  series(nowMs: number, windowS: number, stepS = 1): TrafficSeries {
    const now = Math.floor(nowMs / 1000);
    const step = Math.max(1, Math.floor(stepS));
    const points = Math.ceil(Math.min(windowS, this.capacity) / step);
    const out: TrafficSeries = { stepS: step, t: [], requests: [], errors: [], ttftP50Ms: [], ttftP95Ms: [] };
    const hist = new Array<number>(BINS);
    // Points end at `now`: the newest point holds the current (partial) second.
    const first = now - points * step + 1;
    for (let p = 0; p < points; p++) {
      const from = first + p * step;
      let requests = 0;
      let errors = 0;
      hist.fill(0);
      for (let s = from; s < from + step; s++) {
        const slot = this.#read(s, now);
        if (slot === undefined) continue;
        requests += this.#requests[slot]!;
        errors += this.#errors[slot]!;
        for (let b = 0; b < BINS; b++) hist[b]! += this.#ttft[slot * BINS + b]!;
      }
      out.t.push(from);
      out.requests.push(requests);
      out.errors.push(errors);
      out.ttftP50Ms.push(toMs(quantile(hist, 0.5)));
      out.ttftP95Ms.push(toMs(quantile(hist, 0.95)));
    }
    return out;
  }

  /** Sums over the last `windowS` seconds up to `nowMs`. */
  totals(nowMs: number, windowS: number): TrafficTotals {
    const now = Math.floor(nowMs / 1000);
    const span = Math.min(windowS, this.capacity);
    const hist = new Array<number>(BINS).fill(0);
    let requests = 0;
    let errors = 0;
    const slots: number[] = [];
    for (let s = now - span + 1; s <= now; s++) {
      const slot = this.#read(s, now);
      if (slot === undefined) continue;
      slots.push(slot);
      requests += this.#requests[slot]!;
      errors += this.#errors[slot]!;
      for (let b = 0; b < BINS; b++) hist[b]! += this.#ttft[slot * BINS + b]!;
    }
    const errorCodes: [string, number][] = [];
    for (const [code, counts] of this.#codes) {
      let n = 0;
      for (const slot of slots) n += counts[slot]!;
      if (n > 0) errorCodes.push([code, n]);
    }
    errorCodes.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return { requests, errors, errorCodes, ttftP50Ms: toMs(quantile(hist, 0.5)), ttftP95Ms: toMs(quantile(hist, 0.95)) };
  }

  /** The slot of `second`, emptied first if it still holds a second from an earlier lap. */
  #slot(second: number): number {
    const slot = second % this.capacity;
    if (this.#stamp[slot] !== second) {
      this.#stamp[slot] = second;
      this.#requests[slot] = 0;
      this.#errors[slot] = 0;
      this.#ttft.fill(0, slot * BINS, slot * BINS + BINS);
      for (const counts of this.#codes.values()) counts[slot] = 0;
    }
    return slot;
  }

  /** The slot holding `second`, or undefined when it holds none (never written, or overwritten since). */
  #read(second: number, now: number): number | undefined {
    if (second < 0 || second > now || now - second >= this.capacity) return undefined;
    const slot = second % this.capacity;
    return this.#stamp[slot] === second ? slot : undefined;
  }

  #codeCounts(code: string): Uint32Array {
    let counts = this.#codes.get(code);
    if (!counts) {
      const key = this.#codes.size < MAX_ERROR_CODES ? code : 'other';
      counts = this.#codes.get(key);
      if (!counts) {
        counts = new Uint32Array(this.capacity);
        this.#codes.set(key, counts);
      }
    }
    return counts;
  }
}

function binOf(v: number): number {
  for (let i = 0; i < TTFT_BOUNDS_S.length; i++) if (v <= TTFT_BOUNDS_S[i]!) return i;
  return TTFT_BOUNDS_S.length;
}

/**
 * The q-quantile of a bucketed histogram, interpolated linearly inside its bucket as Prometheus's
 * histogram_quantile does; the open last bucket answers its lower bound. undefined when empty.
 */
export function quantile(hist: readonly number[], q: number): number | undefined {
  let total = 0;
  for (const n of hist) total += n;
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    const n = hist[b]!;
    if (n > 0 && seen + n >= rank) {
      const lower = b === 0 ? 0 : TTFT_BOUNDS_S[b - 1]!;
      if (b >= TTFT_BOUNDS_S.length) return lower;
      const upper = TTFT_BOUNDS_S[b]!;
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return TTFT_BOUNDS_S[TTFT_BOUNDS_S.length - 1];
}

function toMs(s: number | undefined): number | null {
  return s === undefined ? null : Math.round(s * 10_000) / 10;
}
