/** `infergate validate`: finds, before any traffic, the misconfigurations the field report found the hard way. */
import { Option, type Command } from 'commander';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../validate/probe-models.js';
import { renderJson, renderText } from '../validate/render-findings.js';
import { validate, type ValidationReport } from '../validate/run-validate.js';
import { formatDuration } from '../upstream/duration.js';
import { durationFlag, USAGE_EXIT_CODE } from './parse-flags.js';
import { addKubeOptions, readEppConfig, sourceOrExit, type KubeFlags } from './shared-options.js';
import { addUpstreamKeyOption, upstreamKeySourceOrExit, type UpstreamKeyFlags } from './upstream-key-options.js';

export interface ValidateFlags extends KubeFlags, UpstreamKeyFlags {
  output: 'text' | 'json';
  failOn: 'error' | 'warning';
  probe?: boolean;
  probeTimeout: number;
  timeout: number;
  strictAllowlist?: boolean;
  gatewayName?: string;
  eppConfig?: string;
}

/** 0: nothing found at `failOn` or above; 1: findings; 2: the configuration could not be read (or a flag is wrong). */
export function exitStatus(report: ValidationReport, failOn: 'error' | 'warning'): 0 | 1 {
  const counted = failOn === 'error' ? report.summary.errors : report.summary.errors + report.summary.warnings;
  return counted > 0 ? 1 : 0;
}

export function registerValidateCommand(program: Command): void {
  const cmd = program
    .command('validate')
    .description('check a configuration before any traffic: routes to missing pools or unserved models, pools without ready pods or mixing base models, shadowed routes, allowlist conflicts, EndpointPickerConfigs that do not load')
    .option('-f, --file <path>', 'a YAML file or a directory of .yaml files (or a `kubectl get -o yaml` export); - reads standard input (helm template ... | infergate validate -f -)')
    .addOption(new Option('--output <format>', 'text for people, json for programs').choices(['text', 'json']).default('text'))
    .addOption(new Option('--fail-on <severity>', 'exit 1 on findings of this severity or worse: warning (any finding) or error').choices(['warning', 'error']).default('warning'))
    .option('--probe', "also ask each ready pod's GET /v1/models what it serves (default: its vLLM args only)")
    // Durations, as every other timing flag (and kubectl's --request-timeout) takes them; bare numbers stay milliseconds.
    .addOption(new Option('--probe-timeout <duration>', 'with --probe: per-pod timeout (1.5s, 500ms, or whole milliseconds), at most 1m').argParser(durationFlag(1, 60_000)).default(DEFAULT_PROBE_TIMEOUT_MS, formatDuration(DEFAULT_PROBE_TIMEOUT_MS)))
    .addOption(new Option('--timeout <duration>', 'with --kube: how long to wait for the API server to list everything (30s, 2m, or whole milliseconds), at most 10m').argParser(durationFlag(1, 600_000)).default(30_000, formatDuration(30_000)))
    .option('--strict-allowlist', 'as serve --strict-allowlist: a base model must be in an allowlist ConfigMap (makes base-model-not-allowlisted an error)')
    .option('--gateway-name <name>', 'as serve --gateway-name: only HTTPRoutes attached to this Gateway are served')
    .option('--epp-config <file>', "as serve --epp-config: the EndpointPickerConfig of pools that name none (default: llm-d's default profile)");
  // Every usage error exits 2, as a configuration that cannot be read does (commander's own default is 1).
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT_CODE));
  addUpstreamKeyOption(cmd);
  addKubeOptions(cmd, false).action(async (flags: ValidateFlags) => {
    // Given on the command line but without what they time out: an error, not silently unused.
    const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
    const source = sourceOrExit(flags, { timeout: given('timeout') });
    if (given('probeTimeout') && flags.probe !== true) {
      console.error('error: --probe-timeout only applies with --probe');
      process.exit(USAGE_EXIT_CODE);
    }
    const upstreamKey = await upstreamKeySourceOrExit(flags);
    try {
      const eppConfig = await readEppConfig(flags);
      const report = await validate({
        ...('kube' in source ? { kube: { ...source.kube, timeoutMs: flags.timeout } } : source),
        ...(flags.probe ? { probeTimeoutMs: flags.probeTimeout } : {}),
        ...(flags.strictAllowlist ? { strictAllowlist: true } : {}),
        ...(flags.gatewayName !== undefined ? { gatewayName: flags.gatewayName } : {}),
        ...(eppConfig ? { eppConfig } : {}),
        ...(upstreamKey ? { upstreamKey } : {}),
      });
      console.log(flags.output === 'json' ? renderJson(report) : renderText(report));
      process.exitCode = exitStatus(report, flags.failOn);
    } catch (e) {
      console.error(`error: ${(e as Error).message}`);
      process.exitCode = USAGE_EXIT_CODE;
    }
  });
}
