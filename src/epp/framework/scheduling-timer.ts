/** Where a Scheduler reports how long it and each plugin took, when asked to (metrics); unset, nothing is timed. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Plugin, SchedulingContext } from './plugin.js';
import type { SchedulingProfile } from './scheduling-profile.js';

/** llm-d's extension point names, the `extension_point` label of `plugin_duration_seconds`. */
export type ExtensionPoint = 'ProfilePicker' | 'Filter' | 'Scorer' | 'Picker' | 'PreRequest' | 'ProcessProfilesResults';

/** Takes the durations of one plugin's calls at one extension point (a histogram series). */
export interface DurationSink {
  /** One call took `seconds`. */
  observe(seconds: number): void;
}

/**
 * Invariant: called synchronously from inside `Scheduler.schedule`, so implementations do O(1) work and
 * never throw.
 */
export interface SchedulingTimer {
  /**
   * Where the calls of `plugin` at `extensionPoint` are timed into. Asked once per plugin and extension point
   * for as long as the timer stays set (the scheduler keeps the answer), so a lap costs no lookup.
   */
  pluginTimer(extensionPoint: ExtensionPoint, plugin: Plugin): DurationSink;
  /** One `schedule` took `seconds` end to end; `picked` is the primary profile's pick, undefined when none. */
  scheduled(ctx: SchedulingContext, picked: Endpoint | undefined, seconds: number): void;
}

/** A profile's sinks, parallel to its plugin lists. */
export interface ProfileTimers {
  readonly filters: readonly DurationSink[];
  readonly scorers: readonly DurationSink[];
  readonly picker: DurationSink;
  readonly preRequest: readonly DurationSink[];
}

/**
 * Times consecutive plugin calls with one clock read each: a lap ends where the next begins. One per Scheduler
 * and timer, reused by every `schedule` (which is synchronous: `running` guards the rare nested call), with each
 * plugin's sink resolved on first use.
 */
export class PluginStopwatch {
  readonly timer: SchedulingTimer;
  /** The profile handler's sinks: its profile picks and its processing of the results. */
  readonly pickProfiles: DurationSink;
  readonly processResults: DurationSink;
  /** When the current `schedule` began (the end-to-end time's start). */
  startedAt = 0;
  /** The last clock read: the end of the last lap. */
  lastAt = 0;
  /** Between `start` and `stop`. */
  running = false;
  readonly #profiles = new Map<SchedulingProfile, ProfileTimers>();

  constructor(timer: SchedulingTimer, handler: Plugin) {
    this.timer = timer;
    this.pickProfiles = timer.pluginTimer('ProfilePicker', handler);
    this.processResults = timer.pluginTimer('ProcessProfilesResults', handler);
  }

  /** A `schedule` begins now. */
  start(): void {
    this.running = true;
    this.startedAt = this.lastAt = performance.now();
  }

  stop(): void {
    this.running = false;
  }

  /** Starts a lap now, leaving out what ran since the last one (the cycle's own bookkeeping). */
  restart(): void {
    this.lastAt = performance.now();
  }

  /** The plugin whose calls `sink` takes ran from the last lap until now. */
  lap(sink: DurationSink): void {
    const now = performance.now();
    sink.observe((now - this.lastAt) / 1000);
    this.lastAt = now;
  }

  /** `profile`'s sinks, resolved on its first run. */
  profile(profile: SchedulingProfile): ProfileTimers {
    let t = this.#profiles.get(profile);
    if (t === undefined) {
      const timer = this.timer;
      t = {
        filters: profile.filters.map((f) => timer.pluginTimer('Filter', f)),
        scorers: profile.scorers.map((s) => timer.pluginTimer('Scorer', s.scorer)),
        picker: timer.pluginTimer('Picker', profile.picker),
        preRequest: profile.preRequest.map((h) => timer.pluginTimer('PreRequest', h)),
      };
      this.#profiles.set(profile, t);
    }
    return t;
  }

  /** The time since `schedule` began, in seconds, as of the last lap. */
  get elapsedSeconds(): number {
    return (this.lastAt - this.startedAt) / 1000;
  }
}
