/** `infergate extproc -f PATH`: BBR and the endpoint picker as Envoy ext_proc gRPC servers, one process for every pool. */
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../api/config-issue.js';
import { EndpointPickerConfigError } from '../epp/config/epp-config-error.js';
import { DEFAULT_EXTPROC_OPTIONS, startExtproc, type ExtprocOptions } from '../extproc/start-extproc.js';
import type { RequestBodyMode } from '../extproc/processing-stream.js';
import { addAdminOptions, adminOptionsOf, type AdminFlags } from './admin-options.js';
import { onShutdown } from './on-shutdown.js';
import { addShutdownOptions, shutdownOptionsOf, type ShutdownFlags } from './shutdown-options.js';
import { hostFlag, intFlag, USAGE_EXIT_CODE } from './parse-flags.js';
import { portClash } from './port-clash.js';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../proxy/body-limits.js';
import { addJsonLimitOptions, jsonLimitsOf, type JsonLimitFlags } from './limit-options.js';
import { checkCertificateFilesOrExit } from './tls-options.js';
import { addUpstreamKeyOption, upstreamKeySourceOrExit, type UpstreamKeyFlags } from './upstream-key-options.js';
import { addExposureOptions, addSharedOptions, configEditsOf, loggerOrExit, readEppConfig, sourceOrExit, tracingOrExit, type SharedFlags } from './shared-options.js';
import { exitStartup, missingConfigPathNamed } from './startup-failure.js';

/** This command's flags: most are named and typed as the ExtprocOptions they set. */
interface ExtprocFlags extends SharedFlags, ShutdownFlags, JsonLimitFlags, AdminFlags, UpstreamKeyFlags, Pick<ExtprocOptions, 'host' | 'bbrPort' | 'eppPort' | 'healthPort' | 'secureServing' | 'certFile' | 'keyFile' | 'maxBodyBytes' | 'maxUploadBytes'> {
  assumeBodyMode: RequestBodyMode;
}

const D = DEFAULT_EXTPROC_OPTIONS;

function bodyMode(value: string): RequestBodyMode {
  if (value === 'FULL_DUPLEX_STREAMED' || value === 'BUFFERED') return value;
  throw new InvalidArgumentError(`must be FULL_DUPLEX_STREAMED or BUFFERED, got "${value}"`);
}

/** GIE's Go boolean flags: `--secure-serving=false`, `--secure-serving true`, or the bare flag for true. */
function boolFlag(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError(`must be true or false, got "${value}"`);
}

export function registerExtprocCommand(program: Command): void {
  const cmd = program
    .command('extproc')
    .description('serve body-based routing and endpoint picking to Envoy-based gateways (Istio, GKE, Envoy Gateway, kgateway) over ext_proc gRPC: one process for every InferencePool')
    .option('-f, --file <path>', 'a YAML file or a directory of .yaml files (InferencePool, HTTPRoute, ConfigMap, Pod, InferenceObjective, InferenceModelRewrite); watched for changes')
    .option('--host <host>', 'address every port listens on', hostFlag, D.host)
    .option('--bbr-port <port>', 'ext_proc port of the body-based router (GIE: 9004)', intFlag(0, 65535), D.bbrPort)
    .option('--epp-port <port>', 'ext_proc port of the endpoint picker (GIE: 9002)', intFlag(0, 65535), D.eppPort)
    .option('--health-port <port>', 'plaintext gRPC health port: services "", liveness, readiness, envoy.service.ext_proc.v3.ExternalProcessor (any other name is answered as readiness, as GIE)', intFlag(0, 65535), D.healthPort)
    // GIE's and llm-d's charts pass --secure-serving=false; both spellings work.
    .option('--secure-serving [bool]', 'serve the ext_proc ports with TLS, GIE\'s flag: --secure-serving=false is --no-secure-serving (default: true)', boolFlag)
    .option('--no-secure-serving', 'serve the ext_proc ports in plaintext (default: TLS with a self-signed certificate made at startup, as GIE)')
    .option('--cert-file <file>', 'PEM certificate for the ext_proc ports (with --key-file) instead of the self-signed one')
    .option('--key-file <file>', 'PEM private key for --cert-file')
    .option('--max-body-bytes <n>', 'largest request body accepted (413 above); multipart/form-data uploads have --max-upload-bytes', intFlag(1), D.maxBodyBytes)
    .option('--max-upload-bytes <n>', 'largest multipart/form-data body (audio uploads: vLLM and OpenAI take files up to 25 MB) accepted (413 above)', intFlag(1), DEFAULT_MAX_UPLOAD_BYTES)
    .option('--assume-body-mode <mode>', 'request and response body mode assumed when Envoy sends no protocol_config (before 1.34): FULL_DUPLEX_STREAMED or BUFFERED', bodyMode, D.assumedBodyMode);
  addAdminOptions(cmd, true);
  addJsonLimitOptions(cmd);
  addExposureOptions(cmd, 'on the admin port');
  addShutdownOptions(cmd, 'ext_proc streams');
  addUpstreamKeyOption(cmd);
  addSharedOptions(cmd).action(async (flags: ExtprocFlags) => {
      const log = loggerOrExit(flags);
      checkCertificateFilesOrExit(flags);
      const source = sourceOrExit(flags);
      const admin = adminOptionsOf(flags);
      const clash = portClash([
        { flag: '--bbr-port', host: flags.host, port: flags.bbrPort },
        { flag: '--epp-port', host: flags.host, port: flags.eppPort },
        { flag: '--health-port', host: flags.host, port: flags.healthPort },
        { flag: flags.adminPort === undefined && flags.metricsPort !== undefined ? '--metrics-port' : '--admin-port', host: admin.adminHost ?? flags.host, port: admin.adminPort },
      ]);
      if (clash) exitStartup(clash, USAGE_EXIT_CODE);
      const tracing = tracingOrExit(flags, log);
      const upstreamKey = await upstreamKeySourceOrExit(flags);
      try {
        const eppConfig = await readEppConfig(flags);
        const running = await startExtproc({
          ...D,
          ...('kube' in source ? { kube: source.kube, skipSyncWait: true } : source),
          host: flags.host,
          bbrPort: flags.bbrPort,
          eppPort: flags.eppPort,
          healthPort: flags.healthPort,
          ...admin,
          secureServing: flags.secureServing !== false,
          maxBodyBytes: flags.maxBodyBytes,
          ...(flags.maxUploadBytes !== undefined ? { maxUploadBytes: flags.maxUploadBytes } : {}),
          jsonLimits: jsonLimitsOf(flags),
          assumedBodyMode: flags.assumeBodyMode,
          debugDecisions: flags.debugDecisions,
          debugShowRequestIds: flags.debugShowRequestIds === true,
          allowAdminPaths: flags.allowAdminPaths ?? [],
          strictAllowlist: flags.strictAllowlist === true,
          modelsRefreshMs: flags.modelsRefreshInterval,
          refreshMetricsIntervalMs: flags.refreshMetricsInterval,
          ...(flags.metricsScraping !== undefined ? { metricsScraping: flags.metricsScraping } : {}),
          configEdits: configEditsOf(flags),
          log,
          ...(upstreamKey ? { upstreamKeys: { defaultSource: upstreamKey } } : {}),
          ...(flags.certFile !== undefined ? { certFile: flags.certFile } : {}),
          ...(flags.keyFile !== undefined ? { keyFile: flags.keyFile } : {}),
          ...(flags.gatewayName !== undefined ? { gatewayName: flags.gatewayName } : {}),
          ...(eppConfig ? { eppConfig } : {}),
          ...(tracing ? { tracing } : {}),
          ...(flags.kvEventsIngestion !== undefined ? { kvEvents: { ingestion: flags.kvEventsIngestion } } : {}),
        });
        const p = running.ports;
        // Handlers first: a SIGTERM sent as soon as the ready line is read must not meet Node's default (exit at once).
        onShutdown(() => running.shutdown(shutdownOptionsOf(flags)).then(() => undefined), log);
        log.info('infergate ext_proc servers ready', { host: running.host, bbr: p.bbr, epp: p.epp, health: p.health, admin: p.admin, tls: running.tls, config: flags.file ?? 'kubernetes' });
      } catch (e) {
        exitStartup(e instanceof ConfigError || e instanceof EndpointPickerConfigError ? e.message : `error: ${(missingConfigPathNamed(e, flags.file) as Error).message}`, 1);
      }
    });
}
