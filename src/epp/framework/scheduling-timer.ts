/** Where a Scheduler reports how long it and each plugin took, when asked to (metrics); unset, nothing is timed. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Plugin, SchedulingContext } from './plugin.js';

/** llm-d's extension point names, the `extension_point` label of `plugin_duration_seconds`. */
export type ExtensionPoint = 'ProfilePicker' | 'Filter' | 'Scorer' | 'Picker' | 'PreRequest' | 'ProcessProfilesResults';

/**
 * Invariant: called synchronously from inside `Scheduler.schedule`, so implementations do O(1) work and
 * never throw.
 */
export interface SchedulingTimer {
  /** One call of `plugin` at `extensionPoint` took `seconds`. */
  plugin(extensionPoint: ExtensionPoint, plugin: Plugin, seconds: number): void;
  /** One `schedule` took `seconds` end to end; `picked` is the primary profile's pick, undefined when none. */
  scheduled(ctx: SchedulingContext, picked: Endpoint | undefined, seconds: number): void;
}

/**
 * Times consecutive plugin calls with one clock read each: a lap ends where the next begins. One per
 * `schedule` call, made only when a timer is set.
 */
export class PluginStopwatch {
  readonly timer: SchedulingTimer;
  /** When `schedule` began (the end-to-end time's start). */
  readonly startedAt: number;
  #last: number;

  constructor(timer: SchedulingTimer) {
    this.timer = timer;
    this.startedAt = performance.now();
    this.#last = this.startedAt;
  }

  /** Starts a lap now, leaving out what ran since the last one (the cycle's own bookkeeping). */
  restart(): void {
    this.#last = performance.now();
  }

  /** `plugin` at `point` ran from the last lap until now. */
  lap(point: ExtensionPoint, plugin: Plugin): void {
    const now = performance.now();
    this.timer.plugin(point, plugin, (now - this.#last) / 1000);
    this.#last = now;
  }

  /** The time since `schedule` began, in seconds, as of the last lap. */
  get elapsedSeconds(): number {
    return (this.#last - this.startedAt) / 1000;
  }
}
