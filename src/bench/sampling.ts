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
