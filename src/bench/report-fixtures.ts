/** A RunResult builder for report tests: plausible figures, any field overridden. */
import type { RunResult } from './run-bench.js';

export function runResult(over: Partial<RunResult> = {}): RunResult {
  const ms = (p50: number): RunResult['ttft'] => ({ p50, p90: p50 * 2, p99: p50 * 3, mean: p50 * 1.2 });
  return {
    label: 'run',
    workload: 'shared-prefix',
    load: { kind: 'open', rate: 4 },
    requests: 100,
    successes: 98,
    failures: 2,
    successRate: 0.98,
    attemptsPerSuccess: 1,
    attempts: 100,
    routingAccuracy: 1,
    routingChecked: 98,
    rps: 3.9,
    outputTokensPerS: 125,
    ttft: ms(25),
    itl: ms(4),
    tpot: ms(5),
    e2e: ms(180),
    outputTokens: 3136,
    inputTokens: 12544,
    totalTokensPerS: 627,
    errors: { 'HTTP 404 NotFoundError': 2 },
    errorMessages: { 'HTTP 404 NotFoundError': 'The model `m` does not exist.' },
    perEndpoint: { '10.0.0.1:8000': 50, '10.0.0.2:8000': 48 },
    durationS: 25,
    stream: true,
    retries: 0,
    seed: 1,
    ...over,
  };
}
