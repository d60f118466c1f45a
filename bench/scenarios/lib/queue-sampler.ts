/**
 * Samples simulated pods' `vllm:num_requests_waiting` and `vllm:num_requests_running` during a run: the queue
 * depths that show which pods a picker overloaded (llm-d reports the wait queue's mean the same way).
 */
import { sumSeries } from './sim-prefix-stats.js';

/** Queue depths over a run, per pod in the order of the origins given. */
export interface QueueStats {
  samples: number;
  /** Mean of `vllm:num_requests_waiting` per pod. */
  meanWaiting: number[];
  /** Largest `vllm:num_requests_waiting` seen per pod. */
  maxWaiting: number[];
  /** Mean of `vllm:num_requests_running` per pod. */
  meanRunning: number[];
}

/** Folds samples (one [waiting, running] pair per pod each) into QueueStats; pods missing from a sample are skipped in it. */
export class QueueTally {
  readonly #pods: number;
  readonly #waitSum: number[];
  readonly #runSum: number[];
  readonly #count: number[];
  readonly #max: number[];
  #samples = 0;

  constructor(pods: number) {
    this.#pods = pods;
    this.#waitSum = new Array<number>(pods).fill(0);
    this.#runSum = new Array<number>(pods).fill(0);
    this.#count = new Array<number>(pods).fill(0);
    this.#max = new Array<number>(pods).fill(0);
  }

  add(sample: readonly ({ waiting: number; running: number } | null)[]): void {
    this.#samples++;
    for (let i = 0; i < this.#pods; i++) {
      const s = sample[i];
      if (s === null || s === undefined) continue;
      this.#waitSum[i]! += s.waiting;
      this.#runSum[i]! += s.running;
      this.#count[i]!++;
      if (s.waiting > this.#max[i]!) this.#max[i] = s.waiting;
    }
  }

  stats(): QueueStats {
    const mean = (sum: number[]): number[] => sum.map((v, i) => (this.#count[i]! > 0 ? v / this.#count[i]! : NaN));
    return { samples: this.#samples, meanWaiting: mean(this.#waitSum), maxWaiting: [...this.#max], meanRunning: mean(this.#runSum) };
  }
}

async function readPod(origin: string): Promise<{ waiting: number; running: number } | null> {
  try {
    const text = await (await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    return { waiting: sumSeries(text, 'vllm:num_requests_waiting'), running: sumSeries(text, 'vllm:num_requests_running') };
  } catch {
    return null; // a pod slow to answer mid-run is a missing sample, not a failed run
  }
}

/** Polls every `intervalMs` until `stop()`, which resolves with the stats. One poll at a time. */
export function sampleQueues(origins: readonly string[], intervalMs = 500): { stop: () => Promise<QueueStats> } {
  const tally = new QueueTally(origins.length);
  let running = true;
  const loop = (async (): Promise<void> => {
    // Bounded by stop() and by count (an hour of samples at the interval).
    for (let n = 0; running && n < 3_600_000 / intervalMs; n++) {
      tally.add(await Promise.all(origins.map(readPod)));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return tally.stats();
    },
  };
}
