/** What a benchmark sends: the Workload contract, and every built-in workload re-exported for scenario scripts. */

/** One OpenAI request as a workload produces it; the runner adds `stream` and `stream_options`. */
export interface BenchRequest {
  path: '/v1/completions' | '/v1/chat/completions';
  /** The JSON body without `stream`: the runner sets it (and `stream_options`) from its own options. */
  body: Record<string, unknown>;
  /** The model the body asks for; routing accuracy checks that the serving pod lists it. */
  model: string;
  /** Tags such as group/user, for analysis; not sent. */
  tags?: Record<string, string>;
}

/**
 * A source of requests. `next(i, random)` is called once per request, in order i = 0, 1, 2, ..., with the run's
 * seeded PRNG; a workload must draw its choices only from `random` (or from its own seed) so that the same seed
 * replays the same requests whatever the load shape.
 */
export interface Workload {
  name: string;
  next(i: number, random: () => number): BenchRequest;
}

/** Which OpenAI API a synthetic workload speaks; `mixed` draws chat or completions per request. */
export type WorkloadApi = 'chat' | 'completions' | 'mixed';
