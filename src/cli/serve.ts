/** `infergate serve -f PATH`: the standalone OpenAI-compatible gateway. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError } from '../api/config-issue.js';
import { EndpointPickerConfigError } from '../epp/config/epp-config-error.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../observability/logger.js';
import { DEFAULT_GATEWAY_OPTIONS } from '../proxy/gateway.js';
import { onShutdown } from './on-shutdown.js';
import { intFlag } from './parse-flags.js';
import { startGateway } from './start-gateway.js';

interface ServeFlags {
  file: string;
  host: string;
  port: number;
  maxBodyBytes: number;
  strictAllowlist: boolean;
  gatewayName?: string;
  maxAttempts: number;
  modelsRefreshInterval: number;
  refreshMetricsInterval: number;
  connectTimeout: number;
  eppConfig?: string;
  debugDecisions: number;
  logLevel: LogLevel;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the gateway: body-based routing, HTTPRoute matching and endpoint picking from Kubernetes YAML')
    .requiredOption('-f, --file <path>', 'a YAML file or a directory of .yaml files (InferencePool, HTTPRoute, ConfigMap, Pod, InferenceObjective, InferenceModelRewrite); watched for changes')
    .option('--host <host>', 'address to listen on', DEFAULT_GATEWAY_OPTIONS.host)
    .option('--port <port>', 'port to listen on', intFlag(0, 65535), DEFAULT_GATEWAY_OPTIONS.port)
    .option('--max-body-bytes <n>', 'largest request body accepted (413 above)', intFlag(1), DEFAULT_GATEWAY_OPTIONS.maxBodyBytes)
    .option('--strict-allowlist', 'map adapters to base models from allowlist ConfigMaps only, as GIE does (default: ConfigMaps plus what pods report)')
    .option('--gateway-name <name>', 'act only on HTTPRoutes whose parentRefs name this Gateway (default: every HTTPRoute)')
    .option('--max-attempts <n>', 'endpoints tried per request when connections fail', intFlag(1, 10), DEFAULT_GATEWAY_OPTIONS.maxAttempts)
    .option('--models-refresh-interval <ms>', "how often each endpoint's GET /v1/models is refreshed", intFlag(100), DEFAULT_GATEWAY_OPTIONS.modelsRefreshMs)
    .option('--refresh-metrics-interval <ms>', "how often each endpoint's /metrics is scraped (llm-d's flag and default)", intFlag(1), DEFAULT_GATEWAY_OPTIONS.refreshMetricsIntervalMs)
    .option('--connect-timeout <ms>', 'upstream connect timeout', intFlag(1), DEFAULT_GATEWAY_OPTIONS.connectTimeoutMs)
    .option('--epp-config <file>', "llm-d EndpointPickerConfig for pools that name none in their infergate.io/endpoint-picker-config annotation (default: llm-d's default profile)")
    .option('--debug-decisions <n>', 'recent scheduling decisions (with every plugin\'s scores) kept for GET /debug/scheduling; 0 turns tracing off', intFlag(0, 100_000), DEFAULT_GATEWAY_OPTIONS.debugDecisions)
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .action(async (flags: ServeFlags) => {
      if (!LOG_LEVELS.includes(flags.logLevel)) {
        console.error(`error: --log-level must be one of ${LOG_LEVELS.join(', ')}`);
        process.exit(2);
      }
      const log = createLogger(flags.logLevel);
      try {
        const eppConfig = flags.eppConfig === undefined ? undefined : { text: await readFile(flags.eppConfig, 'utf8'), file: flags.eppConfig };
        const gw = await startGateway({
          configPath: flags.file,
          host: flags.host,
          port: flags.port,
          maxBodyBytes: flags.maxBodyBytes,
          strictAllowlist: flags.strictAllowlist === true,
          maxAttempts: flags.maxAttempts,
          modelsRefreshMs: flags.modelsRefreshInterval,
          refreshMetricsIntervalMs: flags.refreshMetricsInterval,
          debugDecisions: flags.debugDecisions,
          connectTimeoutMs: flags.connectTimeout,
          log,
          ...(eppConfig ? { eppConfig } : {}),
          ...(flags.gatewayName !== undefined ? { gatewayName: flags.gatewayName } : {}),
        });
        log.info(`infergate listening on ${gw.url}`, { config: flags.file });
        onShutdown(() => gw.close());
      } catch (e) {
        console.error(e instanceof ConfigError || e instanceof EndpointPickerConfigError ? e.message : `error: ${(e as Error).message}`);
        process.exit(1);
      }
    });
}
