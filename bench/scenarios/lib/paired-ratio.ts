/**
 * Ratios of two targets measured round by round in one run, summarised so that the machine's noise shows.
 *
 * On a shared 2-vCPU machine a target's req/s moves 2x between rounds minutes apart, and the ratio of two means
 * moves with whichever rounds were slow. Each round measures the two targets back to back, so their ratio in that
 * round shares most of the noise: the median of the per-round ratios, with a bootstrap interval, says how well
 * one run pins the ratio down.
 */
import { seededRandom } from '../../../src/seeded-random.js';
import { median } from './precise-pressure-verdict.js';

export interface PairedRatio {
  /** Rounds paired (both targets measured). */
  rounds: number;
  /** The median of `a[r] / b[r]` over the rounds. */
  median: number;
  /** A 95% bootstrap interval of that median (2,000 resamples of the rounds, seeded: the same rounds give the same interval). */
  low: number;
  high: number;
  /** Every round's ratio, in the order the rounds ran. */
  perRound: number[];
}

const RESAMPLES = 2000;

/**
 * `a[r] / b[r]` for each round both measured (a round missing from either, or with `b` at 0, is left out); NaN
 * throughout when no round is left.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): PairedRatio {
  const perRound: number[] = [];
  for (let r = 0; r < Math.min(a.length, b.length); r++) if (b[r]! > 0 && Number.isFinite(a[r]!)) perRound.push(a[r]! / b[r]!);
  if (perRound.length === 0) return { rounds: 0, median: NaN, low: NaN, high: NaN, perRound };
  const random = seededRandom(0x5eed);
  const medians: number[] = [];
  const sample = new Array<number>(perRound.length);
  for (let i = 0; i < RESAMPLES; i++) {
    for (let j = 0; j < perRound.length; j++) sample[j] = perRound[Math.floor(random() * perRound.length)]!;
    medians.push(median(sample));
  }
  medians.sort((x, y) => x - y);
  return { rounds: perRound.length, median: median(perRound), low: medians[Math.floor(RESAMPLES * 0.025)]!, high: medians[Math.ceil(RESAMPLES * 0.975) - 1]!, perRound };
}

/** `0.72x (rounds' median; 95% interval 0.66-0.75 over 12 rounds)`. */
export function formatPairedRatio(p: PairedRatio): string {
  if (p.rounds === 0) return 'no paired rounds';
  return `${p.median.toFixed(2)}x (rounds' median; 95% interval ${p.low.toFixed(2)}-${p.high.toFixed(2)} over ${p.rounds} rounds)`;
}

/** Whether one run settles a goal of "at least `goal`": met when the whole interval is at or above it, not met when all of it is below. */
export function verdict(p: PairedRatio, goal: number): 'met' | 'not met' | 'undecided' {
  if (p.rounds === 0) return 'undecided';
  if (p.low >= goal) return 'met';
  if (p.high < goal) return 'not met';
  return 'undecided';
}
