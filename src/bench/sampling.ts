/** Draws from the distributions a load generator needs, using a caller-supplied [0,1) PRNG. */

/** Seconds until the next arrival of a Poisson process with `rate` arrivals per second (exponential gap). */
export function exponentialGap(random: () => number, rate: number): number {
  // 1 - u is in (0, 1], so the log is finite.
  return -Math.log(1 - random()) / rate;
}

/** A normal draw (Box-Muller) clipped to [min, max] and rounded to an integer. */
export function truncatedNormalInt(random: () => number, d: { mean: number; sd: number; min: number; max: number }): number {
  const u1 = 1 - random();
  const u2 = random();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.min(d.max, Math.max(d.min, Math.round(d.mean + d.sd * z)));
}

/** A uniform index in [0, n). */
export function uniformIndex(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/**
 * Cumulative weights of a Zipf law over n items, weight of item k proportional to 1 / (k + 1)^s (s = 0: uniform), for
 * `weightedIndex`.
 */
export function zipfCumulative(n: number, s: number): Float64Array {
  const out = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) out[k] = sum += 1 / (k + 1) ** s;
  for (let k = 0; k < n; k++) out[k] = (out[k] as number) / sum;
  return out;
}

/** An index drawn by `cumulative` (non-decreasing, last 1), by binary search. */
export function weightedIndex(random: () => number, cumulative: Float64Array): number {
  const u = random();
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u < (cumulative[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
