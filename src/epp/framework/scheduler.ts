/** The scheduler: a profile handler over named profiles, and the request-lifecycle hooks around a pick. */
import type { Endpoint } from '../datastore/endpoint.js';
import { CycleState } from './cycle-state.js';
import type { Admitter, DataProducer, EndpointStateHolder, Filter, Plugin, SchedulingContext, UsageObject, UsageReporter } from './plugin.js';
import { isAdmitter, isDataProducer, isEndpointStateHolder, isUsageReporter } from './plugin.js';
import type { ProfileHandler } from './profile-handler.js';
import { runCycle, runPreRequest, type CycleOptions, type CycleResult } from './run-cycle.js';
import type { SchedulingProfile } from './scheduling-profile.js';
import type { SchedulingRequest } from './scheduling-request.js';
import { PluginStopwatch, type SchedulingTimer } from './scheduling-timer.js';

/** What an EndpointPickerConfig builds: the profiles, the handler, and every plugin instance by name. */
export interface SchedulerConfig {
  readonly profiles: ReadonlyMap<string, SchedulingProfile>;
  readonly handler: ProfileHandler;
  /** Every instance, referenced by a profile or not (the handler, hook-only plugins). */
  readonly plugins: ReadonlyMap<string, Plugin>;
}

export interface ScheduleOptions {
  trace?: boolean;
}

export interface ScheduleResult {
  /** Where to send the request: the primary profile's pick. */
  endpoint?: Endpoint;
  /** Primary first, then fallbacks (the picker's `maxNumOfEndpoints` above 1). */
  ranked?: readonly Endpoint[];
  primaryProfile?: string;
  /** Every profile that ran, in run order. */
  results: ReadonlyMap<string, CycleResult>;
  /** When nothing was picked because a filter removed every candidate: which one, in which profile. */
  emptiedBy?: { profile: string; filter: Filter };
  /** Headers the profile handler adds to the upstream request (undefined: remove it); see ProfileHandler.requestHeaders. */
  requestHeaders?: Readonly<Record<string, string | undefined>>;
  /** Other stages' endpoints the request makes work for (P/D prefill, encode); see ProfileHandler.stageEndpoints. */
  stageEndpoints?: readonly Endpoint[];
  /**
   * With a timer: when the schedule's last lap ended (`performance.now()`), which callers take as the time the
   * request was scheduled instead of reading the clock again.
   */
  timedUntil?: number;
}

const PRODUCED_KEY = 'scheduler/produced';
/** Where the latest schedule of a request keeps every profile's result, for {@link profilePick}. */
const PROFILE_RESULTS_KEY = 'scheduler/profile-results';

/**
 * The endpoint profile `name` picked in the request's latest schedule (after a failover, the new one), for a hook
 * whose plugin names a profile (llm-d's `profileName`: the prefill pick's session token). Undefined when that
 * profile did not run or picked nothing.
 */
export function profilePick(ctx: SchedulingContext, name: string): Endpoint | undefined {
  return ctx.state.read<ReadonlyMap<string, CycleResult>>(PROFILE_RESULTS_KEY)?.get(name)?.endpoint;
}

/** Producers without inputs first, then each after the producers of the keys it consumes (config order otherwise). */
function producerOrder(producers: readonly DataProducer[]): DataProducer[] {
  const out: DataProducer[] = [];
  const left = [...producers];
  // Each round places at least one producer unless the rest depend on each other; those keep config order.
  while (left.length > 0) {
    const ready = left.filter((p) => !(p.consumes ?? []).some((key) => left.some((q) => q !== p && q.produces === key)));
    const next = ready.length > 0 ? ready : left;
    for (const p of next) {
      out.push(p);
      left.splice(left.indexOf(p), 1);
    }
  }
  return out;
}

/** A fresh context for one request: its own CycleState, one `now` for every plugin. */
export function newSchedulingContext(
  request: SchedulingRequest,
  pool: string,
  options: { now?: number; random?: () => number } = {},
): SchedulingContext {
  return { request, pool, state: new CycleState(), now: options.now ?? Date.now(), random: options.random ?? Math.random };
}

/**
 * Runs the handler's profiles for one request, then the PreRequest hooks of every profile that picked
 * (hooks run once the handler has settled, so a profile whose result is not used records nothing).
 * Synchronous: no other request's cycle interleaves between scoring and the hooks.
 */
export class Scheduler {
  readonly config: SchedulerConfig;
  /** Told how long each schedule and each plugin call took (llm-d's scheduler and plugin duration metrics); unset, nothing is timed. */
  timer: SchedulingTimer | undefined;
  /** Reused by every timed schedule while `timer` stays the same. */
  #stopwatch: PluginStopwatch | undefined;
  readonly #stateHolders: readonly EndpointStateHolder[];
  /** DataProducers in run order (producers of a key before its consumers). */
  readonly #producers: readonly DataProducer[];

  /** Every Admitter of the config, in config order. */
  readonly #admitters: readonly Admitter[];
  /** Every UsageReporter of the config, in config order. */
  readonly #reporters: readonly UsageReporter[];

  /** Whether any profile has response hooks: without, the proxy skips the calls (and their closures) per request. */
  readonly #responseHeaders: boolean;
  readonly #responseComplete: boolean;

  constructor(config: SchedulerConfig) {
    this.config = config;
    this.#stateHolders = [...config.plugins.values()].filter(isEndpointStateHolder);
    this.#producers = producerOrder([...config.plugins.values()].filter(isDataProducer));
    this.#admitters = [...config.plugins.values()].filter(isAdmitter);
    this.#reporters = [...config.plugins.values()].filter(isUsageReporter);
    const profiles = [...config.profiles.values()];
    this.#responseHeaders = profiles.some((p) => p.responseHeaders.length > 0);
    this.#responseComplete = profiles.some((p) => p.responseComplete.length > 0);
  }

  /** Whether any plugin produces data before the cycle: without, the proxy skips `produce` altogether. */
  get producesData(): boolean {
    return this.#producers.length > 0;
  }

  /**
   * Runs the DataProducers once per context, in order, before `schedule` (a second call does nothing). A promise
   * only when one waits (`wait`: a tokenizer's answer, bounded by the producer); a producer that throws is skipped.
   */
  produce(ctx: SchedulingContext, candidates: readonly Endpoint[], wait = true): Promise<void> | undefined {
    if (this.#producers.length === 0 || ctx.state.read(PRODUCED_KEY) === true) return undefined;
    ctx.state.write(PRODUCED_KEY, true);
    return this.#produceFrom(0, ctx, candidates, wait);
  }

  #produceFrom(first: number, ctx: SchedulingContext, candidates: readonly Endpoint[], wait: boolean): Promise<void> | undefined {
    for (let i = first; i < this.#producers.length; i++) {
      let pending: Promise<void> | void;
      try {
        pending = this.#producers[i]!.produce(ctx, candidates, wait);
      } catch {
        continue; // a producer's own failure leaves its data unset; scorers then fall back (llm-d logs and continues)
      }
      if (pending) return pending.then(() => this.#produceFrom(i + 1, ctx, candidates, wait), () => this.#produceFrom(i + 1, ctx, candidates, wait));
    }
    return undefined;
  }

  /**
   * The admitters, in config order, before the request's first schedule: the first refusal's reason, or undefined
   * (admitted; always without admitters).
   */
  admit(ctx: SchedulingContext, candidates: readonly Endpoint[]): string | undefined {
    for (const a of this.#admitters) {
      const why = a.admit(ctx, candidates);
      if (why !== undefined) return `${a.name} (${a.type}): ${why}`;
    }
    return undefined;
  }

  /** Whether the config has usage reporters: without, the response's end asks nothing. */
  get reports(): boolean {
    return this.#reporters.length > 0;
  }

  /**
   * What the reporters make of a response's `usage`: namespace -> name -> value (a later reporter's value for the
   * same key wins), or undefined when none reported. A reporter that throws is skipped and `failed` is told.
   */
  reportUsage(usage: UsageObject, failed: (reporter: UsageReporter, error: unknown) => void): Record<string, Record<string, number>> | undefined {
    let out: Record<string, Record<string, number>> | undefined;
    for (const r of this.#reporters) {
      let a;
      try {
        a = r.report(usage);
      } catch (e) {
        failed(r, e);
        continue;
      }
      if (a === undefined) continue;
      out ??= {};
      (out[a.namespace] ??= {})[a.name] = a.value;
    }
    return out;
  }

  /** Whether the config has admitters: without, the pick skips the call. */
  get admits(): boolean {
    return this.#admitters.length > 0;
  }

  schedule(ctx: SchedulingContext, candidates: readonly Endpoint[], options: ScheduleOptions = {}): ScheduleResult {
    const timer = this.timer;
    if (!timer) return this.#schedule(ctx, candidates, options, undefined);
    const sw = this.#stopwatchFor(timer);
    sw.start();
    let picked: Endpoint | undefined;
    try {
      const out = this.#schedule(ctx, candidates, options, sw);
      picked = out.endpoint;
      out.timedUntil = sw.lastAt;
      return out;
    } finally {
      sw.stop();
      timer.scheduled(ctx, picked, sw.elapsedSeconds);
    }
  }

  /** The stopwatch kept for `timer`; a fresh one for a schedule nested in another (a plugin's own pick). */
  #stopwatchFor(timer: SchedulingTimer): PluginStopwatch {
    const kept = this.#stopwatch;
    if (kept !== undefined && kept.timer === timer && !kept.running) return kept;
    const sw = new PluginStopwatch(timer, this.config.handler);
    if (kept === undefined || kept.timer !== timer) this.#stopwatch = sw;
    return sw;
  }

  #schedule(ctx: SchedulingContext, candidates: readonly Endpoint[], options: ScheduleOptions, sw: PluginStopwatch | undefined): ScheduleResult {
    const { profiles, handler } = this.config;
    const results = new Map<string, CycleResult>();
    const cycle: CycleOptions = { trace: options.trace === true, runPreRequest: false, stopwatch: sw };
    // Each round runs at least one new profile, so this ends within profiles.size rounds.
    for (let round = 0; round <= profiles.size; round++) {
      const next = handler.pickProfiles(ctx, profiles, results);
      if (sw) sw.lap(sw.pickProfiles);
      if (next.length === 0) break;
      for (const profile of next) {
        if (results.has(profile.name)) throw new Error(`profile handler ${handler.name} ran profile ${profile.name} twice`);
        results.set(profile.name, runCycle(profile, ctx, candidates, cycle));
      }
    }
    ctx.state.write(PROFILE_RESULTS_KEY, results);
    const primaryProfile = handler.primaryProfile(ctx, results);
    if (sw) sw.lap(sw.processResults);
    const primary = primaryProfile === undefined ? undefined : results.get(primaryProfile);
    const out: ScheduleResult = { results };
    if (primaryProfile !== undefined) out.primaryProfile = primaryProfile;
    if (primary?.endpoint) {
      out.endpoint = primary.endpoint;
      if (primary.ranked) out.ranked = primary.ranked;
      if (handler.requestHeaders !== undefined) out.requestHeaders = handler.requestHeaders(ctx, results);
      if (handler.stageEndpoints !== undefined) {
        const stages = handler.stageEndpoints(ctx, results);
        if (stages.length > 0) out.stageEndpoints = stages;
      }
      for (const [name, r] of results) {
        const profile = profiles.get(name);
        if (profile && r.endpoint) runPreRequest(profile, ctx, r.endpoint, sw);
      }
    } else {
      for (const [name, r] of results) {
        if (r.emptiedBy) {
          out.emptiedBy = { profile: name, filter: r.emptiedBy };
          break;
        }
      }
    }
    return out;
  }

  /**
   * Before the response headers go out: the hooks of each profile that ran, with that profile's endpoint
   * (`served` for the primary one, which may differ from the pick after a failover). `set` adds a header.
   */
  responseHeaders(ctx: SchedulingContext, result: ScheduleResult, served: Endpoint, set: (name: string, value: string) => void): void {
    if (!this.#responseHeaders) return;
    this.#eachProfile(result, served, (profile, ep) => {
      for (const hook of profile.responseHeaders) hook.responseHeaders(ctx, ep, set);
    });
  }

  /** {@link responseHeaders} appending to a flat `[name, value, ...]` list; nothing is allocated without hooks. */
  responseHeadersInto(ctx: SchedulingContext, result: ScheduleResult, served: Endpoint, list: string[]): void {
    if (!this.#responseHeaders) return;
    this.responseHeaders(ctx, result, served, (name, value) => {
      list.push(name, value);
    });
  }

  /** When the response completed or failed. */
  responseComplete(ctx: SchedulingContext, result: ScheduleResult, served: Endpoint): void {
    if (!this.#responseComplete) return;
    this.#eachProfile(result, served, (profile, ep) => {
      for (const hook of profile.responseComplete) hook.responseComplete(ctx, ep);
    });
  }

  /** Drops per-endpoint state (prefix index, LRU positions) of an endpoint that left every pool. */
  forget(address: string): void {
    for (const p of this.#stateHolders) p.forget(address);
  }

  #eachProfile(result: ScheduleResult, served: Endpoint, fn: (profile: SchedulingProfile, ep: Endpoint) => void): void {
    for (const [name, r] of result.results) {
      const profile = this.config.profiles.get(name);
      const ep = name === result.primaryProfile ? served : r.endpoint;
      if (profile && ep) fn(profile, ep);
    }
  }
}
