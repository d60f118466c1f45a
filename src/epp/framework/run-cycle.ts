/** One scheduling cycle of one profile: filters, weighted scorers, the picker, then the PreRequest hooks. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext, Scorer } from './plugin.js';
import type { SchedulingProfile } from './scheduling-profile.js';
import type { PluginStopwatch } from './scheduling-timer.js';

export interface CycleOptions {
  /** Record what every filter removed and every scorer's raw scores (for `explain` and the debug endpoint). */
  trace?: boolean;
  /** Run the profile's PreRequest hooks on the pick (default true); the Scheduler runs them itself. */
  runPreRequest?: boolean;
  /** Times every plugin call (metrics, via `Scheduler.timer`); without it nothing is timed. */
  stopwatch?: PluginStopwatch | undefined;
}

export interface FilterTrace {
  name: string;
  type: string;
  /** Addresses this filter removed, in input order. */
  removed: string[];
  /** How many endpoints were left after it. */
  remaining: number;
}

export interface ScorerTrace {
  name: string;
  type: string;
  weight: number;
  /** Raw score (before weighting) of each endpoint in `CycleTrace.scored`, same order. */
  scores: number[];
  /** What the scores as a whole were based on, when the scorer says (a precise scorer on its approximate view). */
  basis?: string;
  /** Endpoint address -> what its score was based on, for the endpoints the scorer says something of. */
  notes?: Record<string, string>;
}

/** Plain JSON: what `infergate explain` prints and the debug endpoint returns. */
export interface CycleTrace {
  profile: string;
  /** Addresses given to the cycle, in order. */
  candidates: string[];
  filters: FilterTrace[];
  /** Name of the filter that removed the last candidate, when one did. */
  emptiedBy?: string;
  /** Addresses that passed every filter: the order of `scores` and `totals`. */
  scored: string[];
  scorers: ScorerTrace[];
  /** sum(weight x score) per endpoint of `scored`. */
  totals: number[];
  picked?: string;
  /** With `maxNumOfEndpoints` above 1: primary first, then the fallbacks. */
  ranked?: string[];
}

export interface CycleResult {
  profile: string;
  /** The pick; undefined when no candidate was given or a filter removed them all. */
  endpoint?: Endpoint;
  /** Primary first, then fallbacks; only when the picker's `maxNumOfEndpoints` is above 1. */
  ranked?: readonly Endpoint[];
  /** The endpoints that passed the filters, in the order of `totals`. */
  scored: readonly Endpoint[];
  /** sum(weight x score) per endpoint of `scored`. */
  totals: ArrayLike<number>;
  /** The filter that left nothing: the caller answers 503 naming it. */
  emptiedBy?: Filter;
  trace?: CycleTrace;
}

const NO_TOTALS: readonly number[] = [];

/**
 * Runs `profile` over `candidates`. Hot path: no per-endpoint objects are allocated beyond one score array
 * per scorer and the totals; filters that keep everything return their input; nothing is traced unless asked.
 */
export function runCycle(profile: SchedulingProfile, ctx: SchedulingContext, candidates: readonly Endpoint[], options: CycleOptions = {}): CycleResult {
  const trace: CycleTrace | undefined = options.trace
    ? { profile: profile.name, candidates: candidates.map((e) => e.address), filters: [], scored: [], scorers: [], totals: [] }
    : undefined;
  const sw = options.stopwatch;
  const timers = sw?.profile(profile);
  sw?.restart();
  let current = candidates;
  const filters = profile.filters;
  for (let i = 0; i < filters.length; i++) {
    if (current.length === 0) break;
    const f = filters[i]!;
    const next = f.filter(ctx, current);
    if (timers) sw!.lap(timers.filters[i]!);
    if (trace) trace.filters.push(traceFilter(f, current, next));
    current = next;
    if (current.length === 0) {
      if (trace) trace.emptiedBy = f.name;
      return withTrace({ profile: profile.name, scored: current, totals: NO_TOTALS, emptiedBy: f }, trace);
    }
  }
  const n = current.length;
  if (n === 0) return withTrace({ profile: profile.name, scored: current, totals: NO_TOTALS }, trace);

  // A plain array, not a Float64Array: typed arrays this size are allocated off the JS heap, which costs
  // 10x more at the 90th percentile (measured in bench/pick-latency.ts's development).
  const totals = new Array<number>(n).fill(0);
  if (trace) trace.scored = current.map((e) => e.address);
  const scorers = profile.scorers;
  for (let s = 0; s < scorers.length; s++) {
    const { scorer, weight } = scorers[s]!;
    const scores = scorer.score(ctx, current);
    for (let i = 0; i < n; i++) totals[i] = (totals[i] as number) + weight * (scores[i] as number);
    // A scorer's time includes weighing its scores into the totals.
    if (timers) sw!.lap(timers.scorers[s]!);
    if (trace) trace.scorers.push(traceScorer(scorer, weight, scores, ctx, current));
  }

  const result: CycleResult = { profile: profile.name, scored: current, totals };
  const picker = profile.picker;
  if ((picker.maxNumOfEndpoints ?? 1) > 1 && picker.pickRanked) {
    const ranked = picker.pickRanked(ctx, current, totals);
    result.ranked = ranked;
    result.endpoint = ranked[0];
  } else {
    result.endpoint = picker.pick(ctx, current, totals);
  }
  if (timers) sw!.lap(timers.picker);
  if (trace) {
    trace.totals = Array.from(totals);
    if (result.endpoint) trace.picked = result.endpoint.address;
    if (result.ranked) trace.ranked = result.ranked.map((e) => e.address);
  }
  if (result.endpoint && options.runPreRequest !== false) runPreRequest(profile, ctx, result.endpoint, sw);
  return withTrace(result, trace);
}

function withTrace(result: CycleResult, trace: CycleTrace | undefined): CycleResult {
  if (trace) result.trace = trace;
  return result;
}

function traceScorer(scorer: Scorer, weight: number, scores: ArrayLike<number>, ctx: SchedulingContext, endpoints: readonly Endpoint[]): ScorerTrace {
  const t: ScorerTrace = { name: scorer.name, type: scorer.type, weight, scores: Array.from(scores) };
  const notes = scorer.scoreNotes?.(ctx, endpoints);
  if (notes?.basis !== undefined) t.basis = notes.basis;
  if (notes?.endpoints !== undefined && Object.keys(notes.endpoints).length > 0) t.notes = { ...notes.endpoints };
  return t;
}

function traceFilter(f: Filter, before: readonly Endpoint[], after: readonly Endpoint[]): FilterTrace {
  const kept = new Set(after);
  return { name: f.name, type: f.type, removed: before.filter((e) => !kept.has(e)).map((e) => e.address), remaining: after.length };
}

/** `profile`'s PreRequest hooks on its pick, each timed when a stopwatch is given (from its last lap). */
export function runPreRequest(profile: SchedulingProfile, ctx: SchedulingContext, picked: Endpoint, sw: PluginStopwatch | undefined): void {
  const hooks = profile.preRequest;
  const timers = sw?.profile(profile);
  for (let i = 0; i < hooks.length; i++) {
    hooks[i]!.preRequest(ctx, picked);
    if (timers) sw!.lap(timers.preRequest[i]!);
  }
}
