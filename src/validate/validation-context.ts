/** What every check reads: the objects as read, the snapshot the gateway would build, and the model servers. */
import { ConfigError, type ConfigIssue, type ConfigWarning } from '../api/config-issue.js';
import type { Resource } from '../api/resource.js';
import type { ServiceFacts } from '../api/service.js';
import { buildSnapshot, type ConfigSnapshot } from '../config/snapshot.js';
import type { ConfigText } from '../epp/pool-schedulers.js';
import type { ApiKeySource } from '../upstream/api-key-source.js';
import { DEFAULT_UPSTREAM_POLICY } from '../upstream/upstream-policy.js';
import { UpstreamPolicies } from '../upstream/upstream-policies.js';
import { poolSelects, type ModelServer } from './model-servers.js';
import { ServedModels } from './served-models.js';

/** What a source (`-f` files or the Kubernetes API) read, before any cross-object check. */
export interface ValidationInput {
  source: 'files' | 'kube';
  /** Every object read, including ones with field problems (those are reported once, as `invalid-object`). */
  resources: Resource[];
  /** Field and syntax problems of single objects. */
  issues: ConfigIssue[];
  /** What the reader warns about single documents (a kind or a field infergate does not read); none when absent. */
  warnings?: ConfigWarning[];
  servers: ModelServer[];
  /** With -f: kind -> objects of kinds infergate does not read and that look meant as none it reads (ServiceAccount, Role). */
  skipped?: Record<string, number>;
  /** With -f on a directory: `.json` files and subdirectories of manifests in it, which -f does not read. */
  unread?: UnreadManifest[];
  /** With --kube: optional kinds the credentials may not read (403), so their objects were not checked. */
  forbidden?: ForbiddenKind[];
  /**
   * With --kube: the Services pools' endpointPickerRefs name (`namespace/name` -> facts, null when absent), as
   * `serve --kube` watches them; undefined with files, which cannot say whether a Service exists.
   */
  services?: ReadonlyMap<string, ServiceFacts | null>;
}

/** A file or subdirectory in a -f directory that looks like manifests but is not read (only its *.yaml and *.yml are). */
export interface UnreadManifest {
  path: string;
  kind: 'json' | 'directory';
  /** For a directory: how many .yaml, .yml and .json files it holds. */
  files?: number;
}

/** An optional kind (InferenceObjective, InferenceModelRewrite, in one API group) that RBAC did not let validate list. */
export interface ForbiddenKind {
  kind: string;
  apiVersion: string;
  plural: string;
  /** The watch, as logs name it: `inferenceobjectives.llm-d.ai in namespace llm`. */
  watch: string;
  /** The API server's answer. */
  why: string;
}

export interface ValidateOptions {
  /** As `serve --gateway-name`: only HTTPRoutes attached to this Gateway are served. */
  gatewayName?: string;
  /** As `serve --strict-allowlist`: adapters map to base models through allowlist ConfigMaps alone. */
  strictAllowlist?: boolean;
  /** As `serve --epp-config`: the EndpointPickerConfig of pools that name none. */
  eppConfig?: ConfigText;
  /** As `serve --upstream-api-key-file` (or INFERGATE_UPSTREAM_API_KEY): the key of pools that name none. */
  upstreamKey?: ApiKeySource;
}

/** A `--probe` failure: the server's GET /v1/models did not answer, so its vLLM args (if any) stand. */
export interface ProbeFailure {
  server: ModelServer;
  message: string;
  /** 401 or 403: the server answered, refusing the key sent (or wanting one); the message says what to set. */
  refused?: number;
}

export interface ValidationContext {
  readonly source: 'files' | 'kube';
  readonly options: ValidateOptions;
  readonly resources: readonly Resource[];
  readonly readIssues: readonly ConfigIssue[];
  readonly readWarnings: readonly ConfigWarning[];
  /** Built leniently, as `serve --kube` does: every cross-object problem becomes a warning instead of a stop. */
  readonly snapshot: ConfigSnapshot;
  /**
   * What a strict load (`serve -f`) refuses beyond the read issues: duplicates, allowlist conflicts, and pools'
   * upstream annotations (timeouts, outlier detection) that do not parse. EndpointPickerConfigs and API key
   * annotations, which it refuses too, have checks of their own (epp-configs, upstream-keys).
   */
  readonly strictIssues: readonly ConfigIssue[];
  /**
   * The model servers some InferencePool selects: only those can be sent traffic (with --kube these are the
   * only pods listed). Others (the gateway's own pods in an export, a server no pool selects) count nowhere.
   */
  readonly servers: readonly ModelServer[];
  /** Every server read, selected or not, for hints such as the closest labels to a selector. */
  readonly allServers: readonly ModelServer[];
  /** Every allowlist and every selected server: is a name served anywhere? */
  readonly served: ServedModels;
  /** Pool key -> the servers its selector takes, ready or not. */
  readonly members: ReadonlyMap<string, readonly ModelServer[]>;
  /** True when servers' GET /v1/models were asked (`--probe`). */
  readonly probed: boolean;
  readonly probeFailures: readonly ProbeFailure[];
  /** With --kube: optional kinds RBAC did not let validate list. */
  readonly forbidden: readonly ForbiddenKind[];
  /** With -f: objects of other kinds (ServiceAccount, Role) by kind, skipped without a finding. */
  readonly skipped: Readonly<Record<string, number>>;
  /** With -f on a directory: what in it looks like manifests and is not read. */
  readonly unread: readonly UnreadManifest[];
}

/** Builds the snapshot both ways (strict for the issues, lenient for the rest) and indexes the servers. */
export function buildContext(input: ValidationInput, options: ValidateOptions, probe?: { failures: ProbeFailure[] }): ValidationContext {
  const asServed = { ...(options.gatewayName !== undefined ? { gatewayName: options.gatewayName } : {}), ...(input.services ? { services: input.services } : {}) };
  const strictIssues = [...refused(() => buildSnapshot(input.resources, asServed))];
  const snapshot = buildSnapshot(input.resources, { ...asServed, lenient: true });
  // The gateway's own reader of these annotations (Gateway.applySnapshot), so validate refuses what serve refuses.
  strictIssues.push(...refused(() => new UpstreamPolicies(DEFAULT_UPSTREAM_POLICY).prepare(snapshot)));
  const members = new Map<string, ModelServer[]>();
  for (const [key, pool] of snapshot.pools) members.set(key, input.servers.filter((s) => poolSelects(pool, s)));
  const selected = new Set([...members.values()].flat());
  const servers = input.servers.filter((s) => selected.has(s));
  return {
    source: input.source,
    options,
    resources: input.resources,
    readIssues: input.issues,
    readWarnings: input.warnings ?? [],
    snapshot,
    strictIssues,
    servers,
    allServers: input.servers,
    served: new ServedModels(snapshot.allowlists, servers),
    members,
    probed: probe !== undefined,
    probeFailures: probe?.failures ?? [],
    forbidden: input.forbidden ?? [],
    skipped: input.skipped ?? {},
    unread: input.unread ?? [],
  };
}

/** The issues `load` throws in a ConfigError; none when it returns. */
function refused(load: () => unknown): readonly ConfigIssue[] {
  try {
    load();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues;
  }
}

/** The ready servers of a pool, and what they serve together. */
export function poolServed(ctx: ValidationContext, poolKey: string): { ready: readonly ModelServer[]; served: ServedModels } {
  const ready = (ctx.members.get(poolKey) ?? []).filter((s) => s.ready);
  return { ready, served: new ServedModels([], ready) };
}
