/** Flags `serve` and `extproc` share: how the config is read, how models and metrics are learnt, logging. */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_KV_EVENTS_INGESTION, KV_EVENTS_INGESTION_MODES, type KvEventsIngestion } from '../kvevents/kv-events-hub.js';
import type { ConfigText } from '../epp/pool-schedulers.js';
import { DEFAULT_METRICS_SCRAPING, METRICS_SCRAPING_MODES, type MetricsScraping } from '../epp/metrics/metrics-scraper.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from '../logger.js';
import { DEFAULT_GATEWAY_OPTIONS } from '../proxy/gateway.js';
import { formatDuration } from '../upstream/duration.js';
import { durationFlag, intFlag, listFlag, namespaceFlag } from './parse-flags.js';
import type { KubeTargetOptions } from '../config/kube/kube-target.js';
import { DEFAULT_MAX_ENDPOINT_LOSS_PERCENT, DEFAULT_SETTLE_PERIOD_MS, type ConfigEditOptions } from '../config/edit-guard.js';
import { OTLP_PROTOCOLS, tracingSettings, type TracingConfig } from '../observability/tracing/tracing-config.js';
import { exitStartup, setStartupLogFormat } from './startup-failure.js';
import { routeGrpcLogs } from '../observability/grpc-log.js';
import { notAdminPaths, VLLM_ADMIN_PATHS } from '../policy/admin-paths.js';

/** `-f` or `--kube` and its options. */
export interface KubeFlags {
  file?: string;
  kube?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
}

export interface SharedFlags extends KubeFlags {
  strictAllowlist?: boolean;
  gatewayName?: string;
  modelsRefreshInterval: number;
  refreshMetricsInterval: number;
  metricsScraping?: MetricsScraping;
  eppConfig?: string;
  logLevel: LogLevel;
  logFormat: string;
  otlpEndpoint?: string;
  otlpProtocol?: string;
  debugDecisions: number;
  debugShowRequestIds?: boolean;
  allowAdminPaths?: string[];
  allowEmptyConfig?: boolean;
  configSettlePeriod: number;
  maxEndpointLossPercent: number;
  kvEventsIngestion?: KvEventsIngestion;
}

/** The flags of what the gateway exposes beside inference: debug output and vLLM's admin endpoints (issue #10). */
export function addExposureOptions(cmd: Command, debugWhere: string): Command {
  return cmd
    .option('--debug-decisions <n>', `recent scheduling decisions (with every plugin's scores) kept for GET /debug/scheduling ${debugWhere}; 0 (the default) turns it off. It exposes per-request routing data: see docs/configuration.md`, intFlag(0, 100_000), DEFAULT_GATEWAY_OPTIONS.debugDecisions)
    .option('--debug-show-request-ids', 'show request ids verbatim in /debug/scheduling (default: a keyed hash of each; ?request_id= finds one)')
    .option('--allow-admin-paths <paths>', `vLLM admin paths to forward all the same, comma-separated or repeated (e.g. /v1/load_lora_adapter), or '*' for all; the others get 403 admin_path_blocked`, adminPathsFlag);
}

/** For commander: `--allow-admin-paths`, a list flag whose every entry must name one of vLLM's admin paths (or be `*`). */
export function adminPathsFlag(value: string, previous: string[] = []): string[] {
  const list = listFlag(value, previous);
  const unknown = notAdminPaths(list);
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not one of vLLM's admin paths, which alone are refused, so allowing ${unknown.length === 1 ? 'it' : 'them'} changes nothing. The admin paths: ${VLLM_ADMIN_PATHS.join(', ')} (each also under /v1), or '*' for all`);
  }
  return list;
}

/** Adds the shared flags, in the order `--help` shows them. */
export function addSharedOptions(cmd: Command): Command {
  return addKubeOptions(cmd)
    .option('--strict-allowlist', 'map adapters to base models from allowlist ConfigMaps only, as GIE does (default: ConfigMaps plus what pods report)')
    .option('--gateway-name <name>', 'act only on HTTPRoutes whose parentRefs name this Gateway (default: every HTTPRoute)')
    // Durations as llm-d's --refresh-metrics-interval (a Go time.Duration) takes them; bare numbers stay milliseconds.
    .addOption(durationOption('--models-refresh-interval', "how often each endpoint's GET /v1/models is refreshed (5s, 1m, or whole milliseconds)", 100, DEFAULT_GATEWAY_OPTIONS.modelsRefreshMs))
    .addOption(durationOption('--refresh-metrics-interval', "how often each endpoint's /metrics is scraped, llm-d's flag and default (50ms, 1s, or whole milliseconds)", 1, DEFAULT_GATEWAY_OPTIONS.refreshMetricsIntervalMs))
    .option('--metrics-scraping <where>', `where the endpoints' /metrics are fetched, parsed and read: worker (a thread of its own, off the request path) or in-thread (default: ${DEFAULT_METRICS_SCRAPING}); see docs/benchmarks.md`, metricsScrapingFlag)
    .option('--epp-config <file>', "llm-d EndpointPickerConfig for pools that name none in their infergate.io/endpoint-picker-config annotation (default: llm-d's default profile)")
    .option('--allow-empty-config', 'apply at once a configuration change that empties the configuration, removes every InferencePool or HTTPRoute, too many endpoints, every endpoint of a routed pool or a deleted file\'s objects, and accept files left empty (default: hold it back for --config-settle-period)')
    .addOption(durationOption('--config-settle-period', 'how long a configuration change that removes too much must stay in place before it applies (30s, 2m, or whole milliseconds); /readyz shows it meanwhile', 0, DEFAULT_SETTLE_PERIOD_MS))
    .option('--max-endpoint-loss-percent <n>', 'with -f: hold back a change that takes away more than this share of the routable endpoints (ready pod x targetPort of routed pools); 100 turns the rule off', intFlag(0, 100), DEFAULT_MAX_ENDPOINT_LOSS_PERCENT)
    .option('--otlp-endpoint <url>', 'turn on OpenTelemetry tracing: export spans over OTLP to this collector (over HTTP a base URL such as http://otel-collector:4318, /v1/traces appended, or the full traces URL; over gRPC its URL, such as http://otel-collector:4317); default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else off. See docs/observability.md')
    .option('--otlp-protocol <protocol>', `how spans are exported: ${OTLP_PROTOCOLS.join(', ')} (default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)`)
    .option('--kv-events-ingestion <where>', `where the precise prefix plugins' KV events are read, decoded and hashed: worker (a thread of its own, off the request path) or in-thread (default: ${DEFAULT_KV_EVENTS_INGESTION})`, kvEventsIngestionFlag)
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--log-format <format>', 'the log on stderr: text (a line of key=value fields) or json (one JSON object a line: time, level, msg and the fields)', 'text');
}

/** A `<duration>` flag of at least `min` ms, its default shown as a duration (`50ms`, `30s`). */
function durationOption(flag: string, help: string, min: number, defaultMs: number): Option {
  return new Option(`${flag} <duration>`, help).argParser(durationFlag(min)).default(defaultMs, formatDuration(defaultMs));
}

function metricsScrapingFlag(v: string): MetricsScraping {
  if (!(METRICS_SCRAPING_MODES as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${METRICS_SCRAPING_MODES.join(', ')}, got "${v}"`);
  return v as MetricsScraping;
}

function kvEventsIngestionFlag(v: string): KvEventsIngestion {
  if (!(KV_EVENTS_INGESTION_MODES as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${KV_EVENTS_INGESTION_MODES.join(', ')}, got "${v}"`);
  return v as KvEventsIngestion;
}

/** Tracing from `--otlp-endpoint`, `--otlp-protocol` and the OTEL_* variables (undefined: off), its warnings logged; exit 2 on a bad URL or protocol. */
export function tracingOrExit(flags: Pick<SharedFlags, 'otlpEndpoint' | 'otlpProtocol'>, log: Logger): TracingConfig | undefined {
  try {
    const s = tracingSettings(process.env, flags.otlpEndpoint, flags.otlpProtocol);
    for (const w of s.warnings) log.warn(w);
    if (s.off !== undefined) log.info(`tracing off: ${s.off}`);
    return s.config;
  } catch (e) {
    exitStartup(`error: ${(e as Error).message}`, 2);
  }
}

/** --allow-empty-config, --config-settle-period and --max-endpoint-loss-percent, as startGateway and startExtproc take them. */
export function configEditsOf(flags: SharedFlags): ConfigEditOptions {
  return { allowEmptyConfig: flags.allowEmptyConfig === true, settlePeriodMs: flags.configSettlePeriod, maxEndpointLossPercent: flags.maxEndpointLossPercent };
}

/** The Kubernetes source flags (`serve`, `extproc`, `explain` and `validate`; `watch` false for the last two, which list once); `sourceOrExit` checks them. */
export function addKubeOptions(cmd: Command, watch = true): Command {
  // validate and explain list once and stop: 'list + watch' and 'the namespace to watch' told their users otherwise.
  const verb = watch ? 'watch' : 'read';
  return cmd
    .option('--kube', `read the configuration from the Kubernetes API (${watch ? 'list + watch' : 'one list of each kind now, no watch'}) instead of -f`)
    .option('--kubeconfig <path>', 'with --kube: kubeconfig file (default: in-cluster service account in a pod, else $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'with --kube: kubeconfig context (default: its current-context)')
    .option('--namespace <ns>', `with --kube: the namespace to ${verb} (default: the pod's own, else the context's, else default)`, namespaceFlag)
    .option('--all-namespaces', `with --kube: ${verb} every namespace (needs a ClusterRole)`);
}

/**
 * Exactly one source: `-f PATH` or `--kube`; otherwise exit 2 saying so. With `-f`, a flag that only applies
 * with `--kube` is a usage error too: the shared ones, and the command's own in `otherKubeOnly` (flag name ->
 * whether it was given), so that none is silently ignored.
 */
export function sourceOrExit(flags: KubeFlags, otherKubeOnly: Record<string, boolean> = {}): { configPath: string } | { kube: KubeTargetOptions } {
  const kubeOnly = [
    ...(['kubeconfig', 'context', 'namespace', 'allNamespaces'] as const).filter((k) => flags[k] !== undefined).map(kebab),
    ...Object.entries(otherKubeOnly).filter(([, given]) => given).map(([name]) => name),
  ];
  if (flags.file !== undefined && flags.kube) return usage('give either -f PATH or --kube, not both');
  if (flags.file !== undefined) {
    if (kubeOnly.length > 0) return usage(`--${kubeOnly.join(', --')} only appl${kubeOnly.length === 1 ? 'ies' : 'y'} with --kube`);
    return { configPath: flags.file };
  }
  if (!flags.kube) return usage('give a configuration source: -f PATH (YAML file or directory) or --kube (the Kubernetes API)');
  if (flags.namespace !== undefined && flags.allNamespaces) return usage('give either --namespace or --all-namespaces, not both');
  return {
    kube: {
      ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.context !== undefined ? { context: flags.context } : {}),
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      ...(flags.allNamespaces ? { allNamespaces: true } : {}),
    },
  };
}

function usage(message: string): never {
  exitStartup(`error: ${message}`, 2);
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The logger for `--log-level`, or exit 2 naming the allowed levels. */
export function loggerOrExit(flags: Pick<SharedFlags, 'logLevel' | 'logFormat'>): Logger {
  if (!LOG_LEVELS.includes(flags.logLevel)) {
    exitStartup(`error: --log-level must be one of ${LOG_LEVELS.join(', ')}, got "${flags.logLevel}"`, 2);
  }
  if (!(LOG_FORMATS as readonly string[]).includes(flags.logFormat)) {
    exitStartup(`error: --log-format must be one of ${LOG_FORMATS.join(', ')}, got "${flags.logFormat}"`, 2);
  }
  // From here on, a failure to start is written in the log's format too (a JSON line with --log-format json).
  setStartupLogFormat(flags.logFormat as LogFormat);
  const log = createLogger(flags.logLevel, undefined, flags.logFormat as LogFormat);
  routeGrpcLogs(log);
  return log;
}

/** The `--epp-config` file, read once at startup; a file that cannot be read throws naming the flag (`--epp-config nope.yaml: ENOENT ...`). */
export async function readEppConfig(flags: Pick<SharedFlags, 'eppConfig'>): Promise<ConfigText | undefined> {
  if (flags.eppConfig === undefined) return undefined;
  try {
    return { text: await readFile(flags.eppConfig, 'utf8'), file: flags.eppConfig };
  } catch (e) {
    throw new Error(`--epp-config ${flags.eppConfig}: ${(e as Error).message}`);
  }
}
