/** Accumulates per-request outcomes of a run: counts for progress, latency samples and error keys for the result. */
import type { AttemptOutcome } from './send-attempt.js';

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export class Tally {
  /** Requests started (each counted once, however many attempts it took). */
  sent = 0;
  successes = 0;
  failures = 0;
  /** Attempts of all requests, successful or not. */
  attempts = 0;
  attemptsOfSuccesses = 0;
  outputTokens = 0;
  inputTokens = 0;
  readonly ttft: number[] = [];
  readonly itl: number[] = [];
  /** Per request, as vLLM's `bench serve` defines TPOT: the time after the first token over the tokens after it. */
  readonly tpot: number[] = [];
  readonly e2e: number[] = [];
  readonly errors = new Map<string, number>();
  /** The first message seen under each error key. */
  readonly errorMessages = new Map<string, string>();
  readonly perEndpoint = new Map<string, number>();

  get completed(): number {
    return this.successes + this.failures;
  }

  /** Latencies are from the first attempt's start, so time lost to retries shows up in them as the user felt it. */
  success(startAt: number, attempts: number, endpoint: string, o: AttemptOutcome): void {
    this.successes++;
    this.attempts += attempts;
    this.attemptsOfSuccesses += attempts;
    this.outputTokens += o.outputTokens;
    this.inputTokens += o.inputTokens;
    this.e2e.push(o.endAt - startAt);
    if (o.firstContentAt !== null) {
      this.ttft.push(o.firstContentAt - startAt);
      // The first token is TTFT's; a one-token answer has no time per output token.
      if (o.outputTokens > 1) this.tpot.push((o.endAt - o.firstContentAt) / (o.outputTokens - 1));
    }
    for (const gap of o.gaps) this.itl.push(gap);
    bump(this.perEndpoint, endpoint);
  }

  failure(attempts: number, error: string, message = ''): void {
    this.failures++;
    this.attempts += attempts;
    bump(this.errors, error);
    if (message !== '' && !this.errorMessages.has(error)) this.errorMessages.set(error, message);
  }
}
