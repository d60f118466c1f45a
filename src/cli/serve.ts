/** `infergate serve -f PATH`: the standalone OpenAI-compatible gateway. */
import { KV_CONNECTORS, type KvConnector } from '../disagg/prefill-leg.js';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../api/config-issue.js';
import { EndpointPickerConfigError } from '../epp/config/epp-config-error.js';
import { DEFAULT_GATEWAY_OPTIONS } from '../proxy/gateway.js';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../proxy/body-limits.js';
import { DEFAULT_MAX_RESPONSE_IDS } from '../affinity/response-affinity.js';
import { addAdminOptions, adminOptionsOf, type AdminFlags } from './admin-options.js';
import { onShutdown, onSighupReopen } from './on-shutdown.js';
import { addShutdownOptions, shutdownOptionsOf, type ShutdownFlags } from './shutdown-options.js';
import { hostFlag, intFlag } from './parse-flags.js';
import { addExposureOptions, addSharedOptions, configEditsOf, loggerOrExit, readEppConfig, sourceOrExit, tracingOrExit, type SharedFlags } from './shared-options.js';
import { startGateway } from './start-gateway.js';
import { accessLogTarget } from '../observability/access-log.js';
import { addConnectionOptions, addJsonLimitOptions, bodyMemoryOf, connectionLimitsOf, jsonLimitsOf, type ConnectionFlags, type JsonLimitFlags } from './limit-options.js';
import { addUpstreamOptions, upstreamOptionsOf } from './upstream-options.js';
import { addUpstreamKeyOption, upstreamKeySourceOrExit, type UpstreamKeyFlags } from './upstream-key-options.js';
import { addExternalPickerOptions, externalPickerOptionsOrExit, type ExternalPickerFlags } from './external-picker-options.js';
import { addTenancyOptions, tenancyOrExit, type TenancyFlags } from './tenancy-options.js';
import { addTlsOptions, servingCertificateOrExit, type TlsFlags } from './tls-options.js';
import { exitStartup } from './startup-failure.js';
import { addCorsOptions, corsPolicyOrExit, type CorsFlags } from './cors-options.js';

interface ServeFlags extends SharedFlags, ShutdownFlags, JsonLimitFlags, ConnectionFlags, AdminFlags, UpstreamKeyFlags, ExternalPickerFlags, TenancyFlags, TlsFlags, CorsFlags {
  poolStatus: boolean;
  host: string;
  port: number;
  maxBodyBytes: number;
  maxUploadBytes: number;
  maxAttempts: number;
  kvConnector?: KvConnector;
  accessLog?: string;
  eppServiceName?: string;
  maxResponseIds: number;
  gatewayAddress: string[];
}

export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the gateway: body-based routing, HTTPRoute matching and endpoint picking from Kubernetes YAML (-f) or the Kubernetes API (--kube)')
    .option('-f, --file <path>', 'a YAML file or a directory of .yaml files (InferencePool, HTTPRoute, ConfigMap, Pod, InferenceObjective, InferenceModelRewrite); watched for changes')
    .option('--epp-service-name <name>', "the Service that fronts this gateway: a pool whose endpointPickerRef names it is picked by infergate, one naming another Service is an external picker's (docs/kubernetes.md#endpointpickerref). Default: every ref is taken to name infergate")
    .option('--no-pool-status', 'with --kube: do not write status (InferencePool, HTTPRoute, Gateway and GatewayClass conditions) for the Gateways this gateway serves')
    .option('--gateway-address <address>', "with --kube: the address clients reach this gateway at (its Service's load-balancer IP or hostname), written to the status.addresses of the Gateways it serves that set no spec.addresses; repeatable", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--host <host>', 'address to listen on', hostFlag, DEFAULT_GATEWAY_OPTIONS.host)
    .option('--port <port>', 'port to listen on', intFlag(0, 65535), DEFAULT_GATEWAY_OPTIONS.port)
    .option('--max-body-bytes <n>', 'largest request body accepted (413 above); multipart/form-data uploads have --max-upload-bytes', intFlag(1), DEFAULT_GATEWAY_OPTIONS.maxBodyBytes)
    .option('--max-upload-bytes <n>', 'largest multipart/form-data body (audio uploads: vLLM and OpenAI take files up to 25 MB) accepted (413 above)', intFlag(1), DEFAULT_MAX_UPLOAD_BYTES)
    .option('--max-attempts <n>', 'endpoints tried per request when one fails before answering (connect failure, reset, header timeout)', intFlag(1, 10), DEFAULT_GATEWAY_OPTIONS.maxAttempts)
    .option('--kv-connector <name>', "P/D disaggregation without llm-d's routing sidecar: the gateway sends the prefill leg to the prefill pod the scheduler chose and the decode pod gets its kv_transfer_params, by this KV connector's protocol (nixlv2, vLLM's NIXL connector, as the sidecar's default). Unset: the prefill pod is only named in x-prefiller-host-port, for a sidecar in front of the decode pod", kvConnectorFlag)
    .option('--access-log <where>', 'one JSON line per request: stdout, a file path (appended), or off', 'off')
    .option('--max-response-ids <n>', 'Responses API ids remembered with the endpoint that created them, so GET/DELETE /v1/responses/{id} and previous_response_id reach that pod (least recently used forgotten first); 0 turns it off', intFlag(0, 10_000_000), DEFAULT_MAX_RESPONSE_IDS);
  addTlsOptions(cmd);
  addCorsOptions(cmd);
  addAdminOptions(cmd);
  addJsonLimitOptions(cmd);
  addConnectionOptions(cmd);
  addUpstreamOptions(cmd);
  addUpstreamKeyOption(cmd);
  addExternalPickerOptions(cmd);
  addTenancyOptions(cmd);
  addShutdownOptions(cmd, 'requests and streams');
  addExposureOptions(cmd, 'on the admin port');
  addSharedOptions(cmd).action(async (flags: ServeFlags) => {
      const log = loggerOrExit(flags);
      const source = sourceOrExit(flags, { 'no-pool-status': flags.poolStatus === false, 'gateway-address': flags.gatewayAddress.length > 0 });
      const tracing = tracingOrExit(flags, log);
      const upstreamKey = await upstreamKeySourceOrExit(flags);
      const externalPickers = await externalPickerOptionsOrExit(flags);
      const tenancy = await tenancyOrExit(flags, 'kube' in source ? source.kube : undefined, log);
      const tls = servingCertificateOrExit(flags, log);
      const cors = corsPolicyOrExit(flags);
      try {
        const eppConfig = await readEppConfig(flags);
        const gw = await startGateway({
          ...('kube' in source ? { kube: { ...source.kube, writePoolStatus: flags.poolStatus, ...(flags.gatewayAddress.length > 0 ? { gatewayAddresses: flags.gatewayAddress } : {}) }, skipSyncWait: true } : source),
          host: flags.host,
          port: flags.port,
          ...adminOptionsOf(flags, flags),
          maxBodyBytes: flags.maxBodyBytes,
          maxUploadBytes: flags.maxUploadBytes,
          strictAllowlist: flags.strictAllowlist === true,
          maxAttempts: flags.maxAttempts,
          ...(flags.kvConnector !== undefined ? { kvConnector: flags.kvConnector } : {}),
          maxResponseIds: flags.maxResponseIds,
          modelsRefreshMs: flags.modelsRefreshInterval,
          refreshMetricsIntervalMs: flags.refreshMetricsInterval,
          ...(flags.metricsScraping !== undefined ? { metricsScraping: flags.metricsScraping } : {}),
          debugDecisions: flags.debugDecisions,
          debugShowRequestIds: flags.debugShowRequestIds === true,
          allowAdminPaths: flags.allowAdminPaths ?? [],
          ...upstreamOptionsOf(flags as unknown as Record<string, unknown>),
          ...externalPickers,
          ...(tenancy ? { tenancy } : {}),
          ...(tls ? { tls } : {}),
          ...(cors ? { cors } : {}),
          ...(upstreamKey ? { upstreamKeys: { defaultSource: upstreamKey } } : {}),
          configEdits: configEditsOf(flags),
          ...(accessLogTarget(flags.accessLog) ? { accessLog: accessLogTarget(flags.accessLog)! } : {}),
          jsonLimits: jsonLimitsOf(flags),
          connections: connectionLimitsOf(flags),
          maxBodyMemoryBytes: bodyMemoryOf(flags),
          log,
          ...(eppConfig ? { eppConfig } : {}),
          ...(tracing ? { tracing } : {}),
          ...(flags.gatewayName !== undefined ? { gatewayName: flags.gatewayName } : {}),
          ...(flags.eppServiceName !== undefined ? { eppServiceName: flags.eppServiceName } : {}),
          ...(flags.kvEventsIngestion !== undefined ? { kvEvents: { ingestion: flags.kvEventsIngestion } } : {}),
        });
        // The signal handlers before the line that says the gateway is up: whoever waits for that line (a supervisor,
        // a test) may signal at once, and a SIGHUP or SIGTERM met with no handler yet ends the process by default.
        onShutdown(() => gw.shutdown(shutdownOptionsOf(flags)).then(() => undefined), log);
        onSighupReopen(gw.accessLog, flags.accessLog, log);
        log.info(`infergate listening on ${gw.url}`, { config: flags.file ?? 'kubernetes', admin: gw.adminUrl });
      } catch (e) {
        exitStartup(e instanceof ConfigError || e instanceof EndpointPickerConfigError ? e.message : `error: ${(e as Error).message}`, 1);
      }
    });
}

function kvConnectorFlag(v: string): KvConnector {
  if (!(KV_CONNECTORS as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be ${KV_CONNECTORS.join(' or ')} (llm-d's sidecar also knows shared-storage, sglang, mooncake and offloading, which the gateway does not speak), got "${v}"`);
  return v as KvConnector;
}
