/** A scheduling profile: ordered filters, weighted scorers and one picker, plus the hooks of its plugins. */
import type { Filter, Picker, Plugin, PreRequest, ResponseComplete, ResponseHeaders, Scorer } from './plugin.js';
import { isFilter, isPicker, isPreRequest, isResponseComplete, isResponseHeaders, isScorer } from './plugin.js';

/** llm-d: a scorer referenced without `weight` counts once. */
export const DEFAULT_SCORER_WEIGHT = 1;

export interface WeightedScorer {
  readonly scorer: Scorer;
  readonly weight: number;
}

/** One entry of a profile: a plugin and, when it is a scorer, its weight. */
export interface ProfileEntry {
  plugin: Plugin;
  weight?: number;
}

/**
 * Immutable once built. Invariant: exactly one picker; filters run in the order given; a plugin that is
 * several things at once (a filter and a scorer) takes each role, as llm-d's `AddPlugins` does.
 */
export class SchedulingProfile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
  /** Every plugin of the profile, in configuration order, each once. */
  readonly plugins: readonly Plugin[];
  readonly preRequest: readonly PreRequest[];
  readonly responseComplete: readonly ResponseComplete[];
  readonly responseHeaders: readonly ResponseHeaders[];

  constructor(name: string, entries: readonly ProfileEntry[]) {
    const filters: Filter[] = [];
    const scorers: WeightedScorer[] = [];
    const pickers: Picker[] = [];
    const plugins: Plugin[] = [];
    for (const { plugin, weight } of entries) {
      if (plugins.includes(plugin)) throw new Error(`profile ${name}: plugin ${plugin.name} is listed twice`);
      plugins.push(plugin);
      if (isFilter(plugin)) filters.push(plugin);
      if (isScorer(plugin)) scorers.push({ scorer: plugin, weight: weight ?? DEFAULT_SCORER_WEIGHT });
      if (isPicker(plugin)) pickers.push(plugin);
    }
    const picker = pickers[0];
    if (!picker || pickers.length > 1) {
      throw new Error(`profile ${name} needs exactly one picker, has ${pickers.length === 0 ? 'none' : pickers.map((p) => p.name).join(', ')}`);
    }
    this.name = name;
    this.filters = filters;
    this.scorers = scorers;
    this.picker = picker;
    this.plugins = plugins;
    this.preRequest = plugins.filter(isPreRequest);
    this.responseComplete = plugins.filter(isResponseComplete);
    this.responseHeaders = plugins.filter(isResponseHeaders);
  }
}
