/** `serve`'s upstream flags, one per timeout and outlier detection setting, read into GatewayOptions. */
import { InvalidArgumentError, type Command } from 'commander';
import type { GatewayOptions } from '../proxy/gateway.js';
import { DEFAULT_GATEWAY_OPTIONS } from '../proxy/gateway.js';
import { DEFAULT_OUTLIER_DETECTION, OUTLIER_SETTINGS, type OutlierDetection } from '../upstream/outlier-detection.js';
import { annotationOf, flagOf, formatSetting, parseSetting, type SettingSpec } from '../upstream/setting.js';
import { DEFAULT_UPSTREAM_TIMEOUTS, TIMEOUT_SETTINGS, type UpstreamTimeouts } from '../upstream/timeouts.js';

/** The two probes of the control plane, which are per endpoint, not per pool: flags only. */
const PROBE_SETTINGS: readonly SettingSpec<'modelsTimeoutMs' | 'metricsTimeoutMs'>[] = [
  { key: 'modelsTimeoutMs', name: 'models-timeout', kind: 'duration', min: 1, help: "timeout of each endpoint's GET /v1/models (model discovery)" },
  { key: 'metricsTimeoutMs', name: 'metrics-timeout', kind: 'duration', min: 1, help: "timeout of each scrape of an endpoint's /metrics" },
];

type Flags = Record<string, unknown>;

/** Adds every upstream flag, each with its default in the help (durations as `30s`; bare numbers are ms). */
export function addUpstreamOptions(cmd: Command): Command {
  const add = <K extends string>(specs: readonly SettingSpec<K>[], defaults: Record<K, number>, perPool: boolean): void => {
    for (const spec of specs) {
      const value = spec.kind === 'duration' ? '<duration>' : spec.kind === 'percent' ? '<percent>' : '<n>';
      const parse = (text: string): number => {
        const r = parseSetting(spec, text);
        if ('error' in r) throw new InvalidArgumentError(r.error);
        return r.value;
      };
      const annotation = perPool ? `; per pool: annotation ${annotationOf(spec)}` : '';
      cmd.option(`${flagOf(spec)} ${value}`, `${spec.help}${annotation} (default: ${formatSetting(spec, defaults[spec.key])})`, parse);
    }
  };
  add(TIMEOUT_SETTINGS, DEFAULT_UPSTREAM_TIMEOUTS, true);
  add(OUTLIER_SETTINGS, DEFAULT_OUTLIER_DETECTION, true);
  add(PROBE_SETTINGS, DEFAULT_GATEWAY_OPTIONS, false);
  return cmd;
}

/** The flags given, as GatewayOptions; flags not given are left out, so the defaults apply. */
export function upstreamOptionsOf(flags: Flags): Pick<GatewayOptions, 'timeouts' | 'outlierDetection'> & Partial<Pick<GatewayOptions, 'modelsTimeoutMs' | 'metricsTimeoutMs'>> {
  const pick = <K extends string>(specs: readonly SettingSpec<K>[]): Partial<Record<K, number>> => {
    const out: Partial<Record<K, number>> = {};
    for (const spec of specs) {
      const v = flags[camel(spec.name)];
      if (typeof v === 'number') out[spec.key] = v;
    }
    return out;
  };
  return { timeouts: pick<keyof UpstreamTimeouts>(TIMEOUT_SETTINGS), outlierDetection: pick<keyof OutlierDetection>(OUTLIER_SETTINGS), ...pick(PROBE_SETTINGS) };
}

/** commander's attribute name for a flag: `outlier-consecutive-5xx` -> `outlierConsecutive5xx`. */
function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
