/**
 * `approx-prefix-cache-producer` (current llm-d): the approximate prefix index's settings, which llm-d moved off the
 * `prefix-cache-scorer` onto a producer of their own. infergate's prefix-cache-scorer keeps the approximate index
 * itself, so this plugin only checks its parameters and hands them to the prefix-cache-scorers that read it (one
 * naming it in `prefixMatchInfoProducerName`, or naming no producer when this one has llm-d's default name):
 * `build-scheduler-config.ts` builds those scorers with these parameters under their own.
 */
import type { Plugin } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import { readApproximateParams } from './prefix-cache-scorer.js';

export const APPROX_PREFIX_CACHE_PRODUCER_TYPE = 'approx-prefix-cache-producer';

export class ApproxPrefixCacheProducer implements Plugin {
  readonly type = APPROX_PREFIX_CACHE_PRODUCER_TYPE;
  readonly name: string;
  /** The parameters as written (checked): what the scorers reading this producer are built with. */
  readonly parameters: Readonly<Record<string, unknown>>;

  constructor(name: string, parameters: Readonly<Record<string, unknown>>) {
    this.name = name;
    this.parameters = parameters;
  }
}

/** Parameters: the approximate ones of `prefix-cache-scorer` (docs/plugins.md), by llm-d's names. */
export const approxPrefixCacheProducerFactory: PluginFactory = (name, params, r) => {
  readApproximateParams(r);
  return new ApproxPrefixCacheProducer(name, { ...params });
};
