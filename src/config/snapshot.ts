/** One immutable, validated view of the configuration; a reload builds a new one and swaps it whole. */
import type { Allowlist } from '../api/allowlist.js';
import { ConfigError, formatIssue, formatPlace, type ConfigIssue } from '../api/config-issue.js';
import type { HTTPRoute, RouteFilter } from '../api/http-route.js';
import type { InferencePool } from '../api/inference-pool.js';
import { keyOf } from '../api/object-meta.js';
import type { Pod } from '../api/pod.js';
import type { InferenceObjective } from '../api/inference-objective.js';
import type { InferenceModelRewrite } from '../api/inference-model-rewrite.js';
import type { PlainConfigMap } from '../api/plain-config-map.js';
import type { Service, ServiceFacts } from '../api/service.js';
import { LEGACY_INFERENCE_GROUP, LLM_D_GROUP } from '../api/llm-d-names.js';
import type { Resource } from '../api/resource.js';
import { buildAllowlistTable, type AllowlistTable } from '../bbr/allowlist-table.js';
import { PodIndex, poolMembers, type PoolMember } from '../epp/datastore/pool-members.js';
import { compileRoutes, type RouteTable } from '../route/route-table.js';
import { compareCreated, parseCreated } from '../route/precedence.js';
import { IGNORED_FILTERS_FIX, ignoredFiltersText } from '../route/ignored-filters.js';
import { unknownAnnotations } from './known-annotations.js';

export interface SnapshotOptions {
  /** Only HTTPRoutes whose parentRefs name this Gateway count; all of them when unset. */
  gatewayName?: string;
  /**
   * Report cross-object problems (adapter conflicts between allowlists) as warnings and drop the conflicting
   * entries, instead of rejecting the whole snapshot: a live source (Kubernetes) must keep following the
   * cluster when one object is wrong. Files are strict: the user fixes the file.
   */
  lenient?: boolean;
  /**
   * The Services pools' endpointPickerRefs name, by `namespace/name`: facts when the Service exists, null when
   * it was listed and does not. Only the Kubernetes source can know; a name left out could not be checked.
   */
  services?: ReadonlyMap<string, ServiceFacts | null>;
  /**
   * InferencePools that exist but were set aside as invalid (a live source leaves them out until fixed), by
   * `namespace/name`, with their problems: a route naming one is told that, not that the pool does not exist.
   */
  invalidPools?: ReadonlyMap<string, readonly string[]>;
}

export interface ConfigSnapshot {
  /** Increases by one on every successful load; logged so users can tell which config served a request. */
  readonly version: number;
  readonly pools: ReadonlyMap<string, InferencePool>;
  readonly routes: readonly HTTPRoute[];
  readonly routeTable: RouteTable;
  readonly allowlists: readonly Allowlist[];
  readonly allowlistTable: AllowlistTable;
  readonly pods: readonly Pod[];
  /** Pool key -> its InferenceObjectives by name (requests name one in `x-gateway-inference-objective`). */
  readonly objectives: ReadonlyMap<string, ReadonlyMap<string, InferenceObjective>>;
  /** Pool key -> the InferenceModelRewrites that apply to it. */
  readonly rewrites: ReadonlyMap<string, readonly InferenceModelRewrite[]>;
  /** ConfigMaps other than allowlists, by `namespace/name` (e.g. a pool's EndpointPickerConfig). */
  readonly configMaps: ReadonlyMap<string, PlainConfigMap>;
  /** Pool key -> selected pods, computed once per snapshot instead of per request. */
  readonly members: ReadonlyMap<string, readonly PoolMember[]>;
  /** Problems that do not stop the config from loading (a route naming a pool that does not exist yet). */
  readonly warnings: readonly string[];
  /** The warnings about one object's field (an unknown `infergate.io/` annotation), also in `warnings` as text. */
  readonly fieldWarnings: readonly ConfigIssue[];
  /** As `SnapshotOptions.invalidPools`; undefined when none is (files refuse an invalid pool whole). */
  readonly invalidPools?: ReadonlyMap<string, readonly string[]>;
  /** As `SnapshotOptions.services`; undefined when the source cannot know (files). */
  readonly services?: ReadonlyMap<string, ServiceFacts | null>;
  /**
   * Services declared in the configuration files, by `namespace/name`: where an external endpoint picker is
   * reached (src/epp/external/picker-address.ts). Their absence proves nothing, so refs are not judged on it.
   */
  readonly declaredServices: ReadonlyMap<string, Service>;
}

let nextVersion = 1;

/** Validates across objects and builds the snapshot; throws ConfigError listing every problem. */
export function buildSnapshot(resources: readonly Resource[], options: SnapshotOptions = {}, priorIssues: readonly ConfigIssue[] = []): ConfigSnapshot {
  const issues: ConfigIssue[] = [...priorIssues];
  const warnings: string[] = [];
  const seen = new Map<string, Resource>();
  for (const r of resources) {
    // The same name in llm-d's group and the legacy one is two objects, as the API server sees it.
    const id = `${r.kind}${'group' in r ? `.${r.group}` : ''}/${keyOf(r.meta)}`;
    const prior = seen.get(id);
    if (prior) {
      issues.push({ location: r.source, field: 'metadata.name', message: `duplicate ${r.kind === 'Allowlist' ? 'ConfigMap' : r.kind} ${keyOf(r.meta)}; also declared in ${formatPlace(prior.source)}` });
    } else seen.set(id, r);
  }
  const fieldWarnings = unknownAnnotations([...seen.values()]);
  warnings.push(...fieldWarnings.map(formatIssue));
  const pools = new Map<string, InferencePool>();
  const routes: HTTPRoute[] = [];
  const allowlists: Allowlist[] = [];
  const pods: Pod[] = [];
  const objectiveLists = new Map<string, InferenceObjective[]>();
  const rewrites = new Map<string, InferenceModelRewrite[]>();
  const configMaps = new Map<string, PlainConfigMap>();
  const declaredServices = new Map<string, Service>();
  for (const r of seen.values()) {
    if (r.kind === 'InferencePool') pools.set(keyOf(r.meta), r);
    else if (r.kind === 'HTTPRoute') routes.push(r);
    else if (r.kind === 'Allowlist') allowlists.push(r);
    else if (r.kind === 'Pod') pods.push(r);
    else if (r.kind === 'InferenceObjective') objectiveLists.set(r.poolKey, [...(objectiveLists.get(r.poolKey) ?? []), r]);
    else if (r.kind === 'InferenceModelRewrite') rewrites.set(r.poolKey, [...(rewrites.get(r.poolKey) ?? []), r]);
    else if (r.kind === 'Service') declaredServices.set(keyOf(r.meta), r);
    else configMaps.set(keyOf(r.meta), r);
  }
  preferLlmDGroup(objectiveLists, rewrites, warnings);
  // llm-d's precedence between a pool's rewrites: the oldest object first (creationTimestamp), so the same model
  // rewritten by two objects goes by the one that came first; equal or unknown ages keep configuration order.
  for (const list of rewrites.values()) list.sort((a, b) => compareCreated(parseCreated(a.meta.creationTimestamp), parseCreated(b.meta.creationTimestamp)));
  const objectives = new Map([...objectiveLists].map(([poolKey, list]) => [poolKey, new Map(list.map((o) => [o.meta.name, o]))]));
  const { table: allowlistTable, issues: allowIssues } = buildAllowlistTable(allowlists);
  issues.push(...allowIssues);
  if (issues.length > 0) {
    if (!options.lenient) throw new ConfigError(issues);
    warnings.push(...issues.map(formatIssue));
  }

  for (const route of routes) {
    route.rules.forEach((rule, i) => {
      if (rule.filters) warnings.push(ignoredFiltersWarning(route, i, rule.filters));
      for (const b of rule.backendRefs) {
        if (b.namespace !== route.meta.namespace) {
          // Gateway API needs a ReferenceGrant for this; infergate does not read ReferenceGrants, so say so.
          warnings.push(`HTTPRoute ${keyOf(route.meta)} rule ${i} sends to ${b.kind} ${b.namespace}/${b.name} in another namespace; infergate does not check ReferenceGrants and allows it`);
        }
        const invalid = b.kind === 'InferencePool' ? options.invalidPools?.get(`${b.namespace}/${b.name}`) : undefined;
        if (invalid) {
          warnings.push(`HTTPRoute ${keyOf(route.meta)} rule ${i} names InferencePool ${b.namespace}/${b.name}, which is invalid and set aside until it is fixed; requests matching it will get 500 until then`);
        } else if (b.kind === 'InferencePool' && !pools.has(`${b.namespace}/${b.name}`)) {
          warnings.push(`HTTPRoute ${keyOf(route.meta)} rule ${i} names InferencePool ${b.namespace}/${b.name}, which is not in the configuration; requests matching it will get 500 until it exists`);
        } else if (b.kind !== 'InferencePool') {
          warnings.push(`HTTPRoute ${keyOf(route.meta)} rule ${i} has a backendRef of kind ${b.kind} (${b.name}); infergate routes only to InferencePools`);
        }
      }
    });
  }
  for (const [poolKey, list] of [...objectives.entries(), ...rewrites.entries()]) {
    if (!pools.has(poolKey)) {
      const first = list instanceof Map ? [...list.values()][0] : list[0];
      if (first) warnings.push(`${first.kind} ${keyOf(first.meta)} refers to InferencePool ${poolKey}, which is not in the configuration`);
    }
  }
  const members = new Map<string, PoolMember[]>();
  const podIndex = new PodIndex(pods);
  // Endpoint address -> the first pool that reaches it, for pools that disagree on its protocol.
  const protocolOf = new Map<string, { pool: string; appProtocol: string }>();
  for (const [key, pool] of pools) {
    const m = poolMembers(pool, podIndex);
    members.set(key, m);
    if (m.length === 0) warnings.push(`InferencePool ${key} selects no pods (selector ${JSON.stringify(pool.selector)})`);
    for (const w of protocolConflicts(key, pool, m, protocolOf)) warnings.push(w);
  }
  return {
    version: nextVersion++,
    pools,
    routes,
    routeTable: compileRoutes(routes, options.gatewayName === undefined ? {} : { gatewayName: options.gatewayName }),
    allowlists,
    allowlistTable,
    pods,
    objectives,
    rewrites,
    configMaps,
    members,
    warnings,
    fieldWarnings,
    ...(options.services ? { services: options.services } : {}),
    ...(options.invalidPools && options.invalidPools.size > 0 ? { invalidPools: options.invalidPools } : {}),
    declaredServices,
  };
}

/** A rule's filters, which `serve` does not apply (src/route/ignored-filters.ts). */
function ignoredFiltersWarning(route: HTTPRoute, rule: number, filters: readonly RouteFilter[]): string {
  return `HTTPRoute ${keyOf(route.meta)} rule ${rule} ${ignoredFiltersText(filters)}. ${IGNORED_FILTERS_FIX}`;
}

/**
 * Where a pool has InferenceObjectives or InferenceModelRewrites in llm-d's group, the legacy group's are left
 * out for that pool, as llm-d's router reconciles only the new group when both are installed (PR #1449).
 */
function preferLlmDGroup(objectives: Map<string, InferenceObjective[]>, rewrites: Map<string, InferenceModelRewrite[]>, warnings: string[]): void {
  keepNewGroup(objectives, warnings);
  keepNewGroup(rewrites, warnings);
}

function keepNewGroup<T extends InferenceObjective | InferenceModelRewrite>(byPool: Map<string, T[]>, warnings: string[]): void {
  for (const [poolKey, list] of byPool) {
    if (!list.some((o) => o.group === LLM_D_GROUP)) continue;
    const dropped = list.filter((o) => o.group !== LLM_D_GROUP);
    byPool.set(poolKey, list.filter((o) => o.group === LLM_D_GROUP));
    if (dropped.length > 0) {
      warnings.push(`InferencePool ${poolKey} has ${dropped[0]!.kind}s in ${LLM_D_GROUP}, so those in ${LEGACY_INFERENCE_GROUP} are ignored for it (as llm-d does): ${dropped.map((d) => keyOf(d.meta)).join(', ')}`);
    }
  }
}

/**
 * One connection protocol per endpoint: a pod port two pools reach with different `appProtocol`s is spoken to
 * as the first pool says (src/epp/datastore/datastore.ts), which the other pool's author should hear about.
 */
function protocolConflicts(key: string, pool: InferencePool, members: readonly PoolMember[], seen: Map<string, { pool: string; appProtocol: string }>): string[] {
  const out: string[] = [];
  for (const m of members) {
    if (m.excluded || !m.pod.podIP) continue;
    for (const port of pool.targetPorts) {
      const address = `${m.pod.podIP}:${port}`;
      const first = seen.get(address);
      if (!first) seen.set(address, { pool: key, appProtocol: pool.appProtocol });
      else if (first.appProtocol !== pool.appProtocol) {
        out.push(
          `InferencePool ${key} has appProtocol ${pool.appProtocol}, but InferencePool ${first.pool} (appProtocol ${first.appProtocol}) sends to the same pod ${keyOf(m.pod.meta)} port ${port}; ` +
            `one endpoint speaks one protocol, so the gateway speaks ${first.appProtocol === 'http' ? 'HTTP/1.1' : 'h2c'} to it for both pools, as ${first.pool} says. Give both pools the same spec.appProtocol`,
        );
      }
    }
  }
  return out;
}
