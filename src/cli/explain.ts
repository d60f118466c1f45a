/** `infergate explain`: a dry run of one request through the same functions the server uses. */
import { Option, type Command } from 'commander';
import { ConfigError } from '../api/config-issue.js';
import { isReservedRoutingHeader } from '../bbr/routing-headers.js';
import { loadSnapshotFromPath } from '../config/file-source.js';
import { listConfigFiles } from '../config/load-files.js';
import { noConfigFilesMessage } from '../config/no-config-files.js';
import { Datastore } from '../epp/datastore/datastore.js';
import { ModelDiscovery } from '../epp/datastore/model-discovery.js';
import { asGatewayError } from '../errors.js';
import { planRoute, type GatewayState, type IncomingRequest, type RoutePlan } from '../plan/plan-request.js';
import { planPick } from '../plan/pick-stage.js';
import { MetricsScraper } from '../epp/metrics/metrics-scraper.js';
import { PoolSchedulers, type ConfigText } from '../epp/pool-schedulers.js';
import { createLogger, type Logger } from '../logger.js';
import { renderPlan } from './render-plan.js';
import { planOwnAnswer } from './explain-own-answer.js';
import { AdminPathPolicy } from '../policy/admin-paths.js';
import { UpstreamPolicies } from '../upstream/upstream-policies.js';
import { DEFAULT_UPSTREAM_POLICY } from '../upstream/upstream-policy.js';
import { addKubeOptions, adminPathsFlag, readEppConfig, sourceOrExit, type KubeFlags } from './shared-options.js';
import { addUpstreamKeyOption, upstreamKeySourceOrExit, type UpstreamKeyFlags } from './upstream-key-options.js';
import { secretReader } from '../config/kube/read-secret.js';
import { describeApiKeySource, type ApiKeySource } from '../upstream/api-key-source.js';
import { UpstreamCredentials } from '../upstream/upstream-credentials.js';
import { assertOneSource, loadSnapshotFromKube } from '../config/kube/connect.js';
import type { ReflectorTuning } from '../config/kube/kube-source.js';
import type { KubeTargetOptions } from '../config/kube/kube-target.js';
import { missingConfigPathNamed } from './startup-failure.js';

interface ExplainFlags extends KubeFlags, UpstreamKeyFlags {
  body: string;
  allowAdminPaths?: string[];
  eppServiceName?: string;
  header: string[];
  method: string;
  path: string;
  strictAllowlist: boolean;
  gatewayName?: string;
  discover: boolean;
  eppConfig?: string;
}

export interface ExplainInput {
  /** A YAML file or directory; exactly one of `configPath` and `kube`. */
  configPath?: string;
  /** Read the cluster's current configuration from the Kubernetes API (one full list, no watch). */
  kube?: KubeTargetOptions & { reflector?: ReflectorTuning; timeoutMs?: number };
  body: string;
  headers: string[];
  method?: string;
  path?: string;
  strictAllowlist?: boolean;
  gatewayName?: string;
  /** Ask each endpoint's GET /v1/models (default true); without it no endpoint is known to serve anything. */
  discover?: boolean;
  /** The EndpointPickerConfig for pools that name none (as `serve --epp-config`). */
  eppConfig?: ConfigText;
  /** Where load warnings go (unknown kinds, routes to missing pools); none when unset. */
  log?: Logger;
  /** The key of pools that name none (as `serve --upstream-api-key-file`); sent to the pods asked. */
  upstreamKey?: ApiKeySource;
  /** As `serve --allow-admin-paths`: model server admin paths forwarded all the same ('*' for all); the rest get 403. */
  allowAdminPaths?: string[];
  /** As `serve --epp-service-name`: a pool whose endpointPickerRef names another Service is an external picker's. */
  eppServiceName?: string;
}

/** Loads the config, asks the pods what they serve, and plans the request; shared by the CLI and its tests. */
export async function explainRequest(input: ExplainInput): Promise<RoutePlan> {
  const gateway = input.gatewayName !== undefined ? { gatewayName: input.gatewayName } : {};
  assertOneSource(input.configPath, input.kube);
  // A directory with no YAML file in it (manifests in subdirectories) was explained as a configuration with
  // nothing in it: every request 404 model_not_found, under one warning line. There is nothing to explain.
  if (input.configPath !== undefined && (await listConfigFiles(input.configPath)).length === 0) {
    throw new Error((await noConfigFilesMessage(input.configPath)).replace(/files/, 'files to explain the request against'));
  }
  const snapshot = input.kube
    ? await loadSnapshotFromKube(input.kube, { ...gateway, log: input.log ?? createLogger('silent'), ...(input.kube.timeoutMs !== undefined ? { timeoutMs: input.kube.timeoutMs } : {}) })
    : await loadSnapshotFromPath(input.configPath!, gateway, input.log);
  const schedulers = new PoolSchedulers(input.eppConfig, undefined, input.eppServiceName !== undefined ? { eppServiceName: input.eppServiceName } : {});
  // From the cluster, a pool with a bad EndpointPickerConfig is explained with the config `serve --kube` would fall back to.
  const prepared = schedulers.prepare(snapshot, input.kube !== undefined);
  for (const w of prepared.warnings) input.log?.warn(w);
  prepared.commit();
  // A pool's upstream annotations (timeouts, outlier detection) are checked as `serve` checks them.
  const upstream = new UpstreamPolicies(DEFAULT_UPSTREAM_POLICY).prepare(snapshot, input.kube !== undefined);
  for (const w of upstream.warnings) input.log?.warn(w);
  // The pools' API keys, read as `serve` reads them, so the pods are asked as the gateway asks them.
  const credentials = new UpstreamCredentials({ defaultSource: input.upstreamKey, readSecret: input.kube ? secretReader(input.kube) : undefined, log: input.log });
  const keys = credentials.prepare(snapshot, input.kube !== undefined);
  for (const w of keys.warnings) input.log?.warn(w);
  const datastore = new Datastore();
  datastore.apply(snapshot);
  await keys.commit();
  if (input.discover !== false) {
    // What each endpoint serves and its live metrics, as the server would know them.
    const discovery = new ModelDiscovery(datastore, { intervalMs: 60_000, timeoutMs: 1500, auth: credentials });
    const metrics = new MetricsScraper(datastore, { timeoutMs: 1500, auth: credentials });
    await Promise.all([discovery.refreshAll(), metrics.scrapeAll()]);
    await Promise.all([discovery.close(), metrics.close()]);
  }
  const headers = new Map<string, string>();
  const dropped: string[] = [];
  for (const h of input.headers) {
    const i = h.indexOf(':');
    if (i <= 0) throw new Error(`--header must look like "name: value", got "${h}"`);
    const name = h.slice(0, i).trim().toLowerCase();
    if (isReservedRoutingHeader(name)) dropped.push(name);
    else headers.set(name, h.slice(i + 1).trim());
  }
  // The request a client would send: the openai SDKs (and `curl --json`) label a JSON body. Without it, a body
  // that is not JSON got an explanation about a missing Content-Type the real request would have.
  if (input.body !== '' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const url = input.path ?? '/v1/chat/completions';
  const q = url.indexOf('?');
  const req: IncomingRequest = {
    method: (input.method ?? 'POST').toUpperCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers,
    body: Buffer.from(input.body),
    ...(headers.has('host') ? { host: headers.get('host')! } : {}),
  };
  const state: GatewayState = { snapshot, datastore, strictAllowlist: input.strictAllowlist ?? false, schedulers, responses: 'unrecorded', ...(input.discover === false ? { discovery: false } : {}) };
  const adminPaths = new AdminPathPolicy(input.allowAdminPaths);
  // What the server answers before routing (health, the model list, a blocked admin path) is not routed here either.
  const own = planOwnAnswer(state, req, adminPaths);
  if (own) return own;
  if (adminPaths.allowed.length > 0 && adminPaths.isAdmin(req.path)) req.adminPath = true;
  const plan = planRoute(state, req, { trace: true });
  if (dropped.length > 0) plan.steps.unshift({ stage: 'bbr', detail: `dropped client-sent routing header(s) ${dropped.join(', ')}: only the gateway sets them` });
  if (plan.view) describeKey(plan, credentials);
  if (!plan.error && plan.view) {
    try {
      planPick(state, plan, undefined, true);
    } catch (e) {
      plan.error = asGatewayError(e);
    }
  }
  return plan;
}

/** A step under the pool: which key its pods get (by its source, never its value), or why none can be read. */
function describeKey(plan: RoutePlan, credentials: UpstreamCredentials): void {
  const c = credentials.forPool(plan.view!.key);
  if (!c) return;
  const detail = `upstream API key: ${describeApiKeySource(c.source)}${c.error !== undefined ? `; cannot be read: ${c.error}` : `, sent as "Authorization: Bearer" in place of the client's`}`;
  // Beside the pool's other steps, so it prints under the same heading.
  let at = plan.steps.length;
  for (let i = plan.steps.length - 1; i >= 0; i--) {
    if (plan.steps[i]!.stage === 'pool') {
      at = i + 1;
      break;
    }
  }
  plan.steps.splice(at, 0, { stage: 'pool', detail });
}

export function registerExplainCommand(program: Command): void {
  const cmd = program
    .command('explain')
    .description('dry-run one request: the model found, its base model and why, the route rule, the pool, each endpoint and the pick')
    .option('-f, --file <path>', 'a YAML file or a directory of .yaml files (or a `kubectl get -o yaml` export)')
    // Defaults described, not printed: commander showed '(default: none, ...) (default: "")' and '(default: [])'.
    .addOption(new Option('--body <json>', 'the request body, e.g. \'{"model":"gemma-sql-lora","prompt":"hi"}\'').default('', 'none, as a GET such as --method GET --path /v1/models sends'))
    .addOption(new Option('--header <header>', 'a request header "name: value" (repeatable)').argParser((v: string, acc: string[]) => [...acc, v]).default([] as string[], 'none'))
    .option('--method <method>', 'HTTP method', 'POST')
    .option('--path <path>', 'request path and query', '/v1/chat/completions')
    .option('--strict-allowlist', 'use allowlist ConfigMaps only for adapter -> base model')
    .option('--gateway-name <name>', 'act only on HTTPRoutes whose parentRefs name this Gateway')
    .option('--epp-config <file>', 'EndpointPickerConfig for pools that name none (default: llm-d\'s default profile)')
    .option('--no-discover', "do not ask the pods' GET /v1/models and /metrics")
    .option('--epp-service-name <name>', "as serve: the Service that fronts the gateway; a pool whose endpointPickerRef names another Service is an external picker's (default: every ref names infergate)")
    .option('--allow-admin-paths <paths>', "as serve: vLLM admin paths forwarded all the same, comma-separated or repeated, or '*' for all; the others get 403 admin_path_blocked", adminPathsFlag);
  addUpstreamKeyOption(cmd);
  addKubeOptions(cmd, false).action(async (flags: ExplainFlags) => {
      const source = sourceOrExit(flags);
      const upstreamKey = await upstreamKeySourceOrExit(flags);
      try {
        const eppConfig = await readEppConfig(flags);
        const plan = await explainRequest({
          ...source,
          body: flags.body,
          headers: flags.header,
          method: flags.method,
          path: flags.path,
          strictAllowlist: flags.strictAllowlist === true,
          ...(flags.allowAdminPaths && flags.allowAdminPaths.length > 0 ? { allowAdminPaths: flags.allowAdminPaths } : {}),
          ...(flags.eppServiceName !== undefined ? { eppServiceName: flags.eppServiceName } : {}),
          discover: flags.discover,
          log: createLogger('warn'),
          ...(upstreamKey ? { upstreamKey } : {}),
          ...(eppConfig ? { eppConfig } : {}),
          ...(flags.gatewayName !== undefined ? { gatewayName: flags.gatewayName } : {}),
        });
        console.log(renderPlan(plan).join('\n'));
        process.exitCode = plan.error ? 1 : 0;
      } catch (e) {
        console.error(e instanceof ConfigError ? e.message : `error: ${(missingConfigPathNamed(e, flags.file) as Error).message}`);
        process.exitCode = 2;
      }
    });
}
