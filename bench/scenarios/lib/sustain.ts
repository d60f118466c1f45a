/**
 * Whether an open-loop run kept up with its offered rate, and the highest rate of a sweep that did: the
 * "highest rate approximate sustains" of issue #14's KV-pressure target.
 */
import type { Workload } from '../../../src/bench/workload.js';

/** When a run's requests went out. `runBench` asks the workload for request i exactly when it sends it. */
export class SendClock {
  readonly startedAt: number;
  #sent = 0;
  #lastSentAt: number;

  constructor(now: number = performance.now()) {
    this.startedAt = now;
    this.#lastSentAt = now;
  }

  get sent(): number {
    return this.#sent;
  }

  /** Seconds from the start to the last send: the window in which the load was offered. */
  get windowS(): number {
    return (this.#lastSentAt - this.startedAt) / 1000;
  }

  mark(now: number = performance.now()): void {
    this.#sent++;
    this.#lastSentAt = now;
  }

  /** `workload`, with every request it hands out marked as sent. */
  wrap(workload: Workload): Workload {
    return {
      name: workload.name,
      next: (i, random) => {
        const req = workload.next(i, random);
        this.mark();
        return req;
      },
    };
  }
}

/** One open-loop run's counts and times, as the sustain criterion reads them. */
export interface RunTiming {
  sent: number;
  successes: number;
  /** Start to last send, seconds. */
  windowS: number;
  /** Start to last answer, seconds (`RunResult.durationS`). */
  durationS: number;
  /**
   * A request's median time from its first token to its last, seconds (e2e p50 - TTFT p50): the part of its life
   * no backlog lengthens, since queueing shows in TTFT. Even a fleet that keeps up answers the last request this
   * long after its first token, so it is not counted as drain. Omitted: 0 (answers of a few tokens).
   */
  decodeS?: number;
}

/**
 * Served / offered: (successes / (durationS - decodeS)) / (sent / windowS). A pod fleet that keeps up answers
 * the last request about one request's latency after it was sent, so this stays near 1; an overloaded one builds
 * a backlog that it drains after the last arrival, and the ratio falls by the backlog's share of the run. Long
 * answers (hundreds of tokens) would count their own decoding as backlog: `decodeS` takes it out.
 * NaN when nothing was sent or no window elapsed.
 */
export function servedRatio(t: RunTiming): number {
  const servedS = t.durationS - Math.max(0, t.decodeS ?? 0);
  if (t.sent === 0 || t.windowS <= 0 || servedS <= 0) return NaN;
  return t.successes / servedS / (t.sent / t.windowS);
}

/** Default served / offered below which a run did not sustain its rate: the backlog took more than 1/9 of the window to drain. */
export const DEFAULT_MIN_SERVED_RATIO = 0.9;

/** Sustained: every request succeeded and the served rate kept within `minRatio` of the offered rate. */
export function sustains(t: RunTiming, minRatio = DEFAULT_MIN_SERVED_RATIO): boolean {
  return t.successes === t.sent && servedRatio(t) >= minRatio;
}

/**
 * The highest rate of an ascending sweep that was sustained with every lower rate sustained too (a rate that
 * passes after a failure is noise past the knee, not capacity); undefined when the lowest rate already failed.
 */
export function highestSustained(points: readonly { rate: number; sustained: boolean }[]): number | undefined {
  let best: number | undefined;
  for (const p of [...points].sort((a, b) => a.rate - b.rate)) {
    if (!p.sustained) break;
    best = p.rate;
  }
  return best;
}
