/** Flags `serve` and `extproc` share: how the config is read, how models and metrics are learnt, logging. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ConfigText } from '../epp/pool-schedulers.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../observability/logger.js';
import { DEFAULT_GATEWAY_OPTIONS } from '../proxy/gateway.js';
import { intFlag } from './parse-flags.js';

export interface SharedFlags {
  strictAllowlist?: boolean;
  gatewayName?: string;
  modelsRefreshInterval: number;
  refreshMetricsInterval: number;
  eppConfig?: string;
  logLevel: LogLevel;
}

/** Adds the shared flags, in the order `--help` shows them. */
export function addSharedOptions(cmd: Command): Command {
  return cmd
    .option('--strict-allowlist', 'map adapters to base models from allowlist ConfigMaps only, as GIE does (default: ConfigMaps plus what pods report)')
    .option('--gateway-name <name>', 'act only on HTTPRoutes whose parentRefs name this Gateway (default: every HTTPRoute)')
    .option('--models-refresh-interval <ms>', "how often each endpoint's GET /v1/models is refreshed", intFlag(100), DEFAULT_GATEWAY_OPTIONS.modelsRefreshMs)
    .option('--refresh-metrics-interval <ms>', "how often each endpoint's /metrics is scraped (llm-d's flag and default)", intFlag(1), DEFAULT_GATEWAY_OPTIONS.refreshMetricsIntervalMs)
    .option('--epp-config <file>', "llm-d EndpointPickerConfig for pools that name none in their infergate.io/endpoint-picker-config annotation (default: llm-d's default profile)")
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info');
}

/** The logger for `--log-level`, or exit 2 naming the allowed levels. */
export function loggerOrExit(flags: SharedFlags): Logger {
  if (!LOG_LEVELS.includes(flags.logLevel)) {
    console.error(`error: --log-level must be one of ${LOG_LEVELS.join(', ')}`);
    process.exit(2);
  }
  return createLogger(flags.logLevel);
}

export async function readEppConfig(flags: SharedFlags): Promise<ConfigText | undefined> {
  return flags.eppConfig === undefined ? undefined : { text: await readFile(flags.eppConfig, 'utf8'), file: flags.eppConfig };
}
