/**
 * The EndpointPickerConfig each InferencePool would run under `serve`, loaded by the gateway's own
 * PoolSchedulers, for checks that judge a config against the pool's pods (role filters, KV-event publishers).
 */
import { ConfigError } from '../api/config-issue.js';
import { EndpointPickerConfigError } from '../epp/config/epp-config-error.js';
import type { SchedulerConfig } from '../epp/framework/scheduler.js';
import { EPP_CONFIG_ANNOTATION, PoolSchedulers } from '../epp/pool-schedulers.js';
import type { ValidationContext } from './validation-context.js';

/**
 * Pool key -> its loaded config, for the pools whose endpoints infergate picks. Pools whose config does not
 * load (the epp-configs check's findings, an invalid `--epp-config` included) and pools an external picker
 * serves are left out.
 */
export function poolConfigs(ctx: ValidationContext): Map<string, SchedulerConfig> {
  let schedulers: PoolSchedulers;
  let flagLoads = true;
  try {
    schedulers = new PoolSchedulers(ctx.options.eppConfig);
  } catch (e) {
    if (!(e instanceof EndpointPickerConfigError)) throw e;
    schedulers = new PoolSchedulers();
    flagLoads = false;
  }
  const out = new Map<string, SchedulerConfig>();
  for (const [key, pool] of ctx.snapshot.pools) {
    if (pool.meta.annotations[EPP_CONFIG_ANNOTATION] === undefined && !flagLoads) continue;
    try {
      // One pool at a time: a strict prepare refuses the whole snapshot for one bad pool.
      schedulers.prepare({ ...ctx.snapshot, pools: new Map([[key, pool]]) }).commit();
    } catch (e) {
      if (e instanceof ConfigError) continue;
      throw e;
    }
    const config = schedulers.forPool(key)?.scheduler.config;
    if (config && schedulers.pickerRef(key)?.picker === 'self') out.set(key, config);
  }
  return out;
}
