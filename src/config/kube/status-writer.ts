/**
 * Writes the status infergate owns as the gateway: InferencePool parents (pool-status.ts), HTTPRoute parents
 * (route-status.ts), and its Gateways and GatewayClasses (gateway-status.ts). Only with the RBAC it is given:
 * a forbidden write is logged with what to grant and that kind is retried rarely, never fatal (in llm-d, RBAC
 * errors crash-looped the EPP). Conflicts are retried after the next change; writes are serialized.
 */
import type { Logger } from '../../logger.js';
import type { ConfigSnapshot } from '../snapshot.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import { desiredPoolParents, mergeParents, parentKey, type ParentStatusJson, type PoolStatusFacts } from './pool-status.js';
import { desiredRouteParents, INFERGATE_CONTROLLER_NAME } from './route-status.js';
import { desiredGatewayStatus, mergeClassConditions, mergeGatewayStatus, ourClasses, ourGateways, type GatewayFacts } from './gateway-status.js';
import type { KubeObject } from './kube-object.js';
import { GATEWAYS, GATEWAY_CLASSES, HTTP_ROUTES, INFERENCE_POOLS, collectionPath, objectPath, type ResourceType } from './resource-types.js';

export interface StatusWriterOptions {
  client: KubeClient;
  log: Logger;
  gatewayName?: string;
  /** `controllerName` of infergate's GatewayClass and route parent entries (default infergate.io/gateway-controller). */
  controllerName?: string;
  /** `--gateway-address`: status.addresses of infergate's Gateways that set no spec.addresses. */
  gatewayAddresses?: readonly string[];
  /** After a 403, how long before a write of that kind is tried again (RBAC may be granted meanwhile). */
  forbiddenRetryMs?: number;
  now?: () => Date;
}

export interface StatusInputs extends Omit<PoolStatusFacts, 'snapshot' | 'gatewayName'> {
  snapshot: ConfigSnapshot;
  /** The pools as the API server has them now (called again on a retry). */
  pools: () => Iterable<KubeObject>;
  /** The HTTPRoutes as the API server has them; unset: route status is not written. */
  routes?: () => Iterable<KubeObject>;
  /**
   * The Gateways and GatewayClasses as the API server has them; unset, or undefined when unreadable: their
   * status is not written, and route status covers every Gateway parentRef routing serves.
   */
  gateways?: () => Iterable<KubeObject> | undefined;
  gatewayClasses?: () => Iterable<KubeObject> | undefined;
}

type WriteResult = 'ok' | 'conflict' | 'stop';

export class PoolStatusWriter {
  readonly #o: StatusWriterOptions;
  /** Pool key -> parent keys infergate wrote, so it can remove them when the route goes. */
  readonly #written = new Map<string, Set<string>>();
  /** Kind -> until when writes of it pause after a 403. */
  readonly #forbiddenUntil = new Map<string, number>();
  #running: Promise<void> | undefined;
  #next: StatusInputs | undefined;
  #latest: StatusInputs | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** Writes sent and refused, for tests and logs. */
  readonly stats = { writes: 0, forbidden: 0, conflicts: 0 };

  constructor(opts: StatusWriterOptions) {
    this.#o = opts;
  }

  /** Brings every object's status in line with `inputs`; a call during a run is folded into one more run. */
  update(inputs: StatusInputs): Promise<void> {
    this.#next = inputs;
    this.#latest = inputs;
    if (!this.#running) {
      this.#running = (async () => {
        while (this.#next && !this.#closed) {
          const i = this.#next;
          this.#next = undefined;
          await this.#reconcile(i);
        }
      })().finally(() => (this.#running = undefined));
    }
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#running;
  }

  async #reconcile(inputs: StatusInputs): Promise<void> {
    const now = this.#o.now?.() ?? new Date();
    // metav1.Time is RFC 3339 to the second.
    const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const kinds: [ResourceType, () => Promise<WriteResult | 'closed'>][] = [[INFERENCE_POOLS, () => this.#pools(inputs, stamp)]];
    const gateways = inputs.gateways?.();
    const ours = gateways ? ourGateways(gateways, inputs.gatewayClasses?.(), this.#gatewayFacts(inputs)) : undefined;
    if (inputs.routes) kinds.push([HTTP_ROUTES, () => this.#routes(inputs, inputs.routes!, ours, stamp)]);
    if (ours) kinds.push([GATEWAYS, () => this.#gateways(inputs, ours, stamp)]);
    const classes = inputs.gatewayClasses?.();
    if (classes) kinds.push([GATEWAY_CLASSES, () => this.#classes(classes, stamp)]);
    let conflict = false;
    let pausedMs = Infinity;
    for (const [type, run] of kinds) {
      const until = this.#forbiddenUntil.get(type.kind) ?? 0;
      // The retry timer can fire before the clock says the pause is over (the wall clock stepped back): try again then.
      if (now.getTime() < until) {
        pausedMs = Math.min(pausedMs, until - now.getTime());
        continue;
      }
      const result = await run();
      if (result === 'closed') return;
      if (result === 'stop') pausedMs = Math.min(pausedMs, this.#o.forbiddenRetryMs ?? 60_000);
      if (result === 'conflict') conflict = true;
    }
    // Another writer changed an object since it was read; by the retry the watch has brought its new version.
    if (conflict) this.#retryLater(inputs, Math.min(500, pausedMs));
    else if (pausedMs !== Infinity) this.#retryLater(inputs, pausedMs);
  }

  async #pools(inputs: StatusInputs, now: string): Promise<WriteResult | 'closed'> {
    const desired = desiredPoolParents({ ...inputs, ...(this.#o.gatewayName !== undefined ? { gatewayName: this.#o.gatewayName } : {}) });
    const controllerName = this.#o.controllerName ?? INFERGATE_CONTROLLER_NAME;
    const gatewayName = this.#o.gatewayName;
    let out: WriteResult = 'ok';
    for (const pool of inputs.pools()) {
      if (this.#closed) return 'closed';
      const ns = pool.metadata.namespace ?? 'default';
      const key = `${ns}/${pool.metadata.name}`;
      // GIE v1.1+ has ParentStatus.controllerName: stamped on infergate's entries, it tells them apart after a restart too.
      const want = (desired.get(key) ?? []).map((w) => ({ ...w, controllerName }));
      const existing = parentsOf(pool);
      const stamped = new Set(existing.filter((p) => p.controllerName === controllerName && (gatewayName === undefined || p.parentRef.name === gatewayName)).map((p) => parentKey(p.parentRef, ns)));
      const written = this.#written.get(key) ?? new Set<string>();
      const isOurs = (k: string): boolean => written.has(k) || stamped.has(k) || (gatewayName !== undefined && namesGateway(k, gatewayName));
      const next = mergeParents(existing, want, ns, pool.metadata.generation, isOurs, now);
      if (!next) continue;
      const result = await this.#write(INFERENCE_POOLS, pool, { parents: next.length > 0 ? next : null });
      if (result === 'stop') return 'stop';
      if (result === 'conflict') out = 'conflict';
      else this.#written.set(key, new Set(want.map((w) => parentKey(w.parentRef, ns))));
    }
    return out;
  }

  /** Route parents: entries with infergate's controllerName are its own, replaced; other controllers' are kept. */
  async #routes(inputs: StatusInputs, routes: () => Iterable<KubeObject>, gateways: KubeObject[] | undefined, now: string): Promise<WriteResult | 'closed'> {
    const controllerName = this.#o.controllerName ?? INFERGATE_CONTROLLER_NAME;
    const desired = desiredRouteParents({
      snapshot: inputs.snapshot,
      rejected: inputs.rejected,
      controllerName,
      ...(gateways ? { servedGateways: new Set(gateways.map((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`)) } : {}),
      ...(this.#o.gatewayName !== undefined ? { gatewayName: this.#o.gatewayName } : {}),
    });
    let out: WriteResult = 'ok';
    for (const route of routes()) {
      if (this.#closed) return 'closed';
      const ns = route.metadata.namespace ?? 'default';
      const existing = parentsOf(route);
      // With --gateway-name, another Deployment of infergate serves the other Gateways: their entries are its own.
      const gatewayName = this.#o.gatewayName;
      const ours = new Set(existing.filter((p) => p.controllerName === controllerName && (gatewayName === undefined || p.parentRef.name === gatewayName)).map((p) => parentKey(p.parentRef, ns)));
      const next = mergeParents(existing, desired.get(`${ns}/${route.metadata.name}`) ?? [], ns, route.metadata.generation, (k) => ours.has(k), now);
      if (!next) continue;
      // `parents` is required in HTTPRoute status: an empty list, not null.
      const result = await this.#write(HTTP_ROUTES, route, { parents: next });
      if (result === 'stop') return 'stop';
      if (result === 'conflict') out = 'conflict';
    }
    return out;
  }

  #gatewayFacts(inputs: StatusInputs): GatewayFacts {
    return {
      routes: inputs.snapshot.routes,
      ...(this.#o.gatewayName !== undefined ? { gatewayName: this.#o.gatewayName } : {}),
      ...(this.#o.controllerName !== undefined ? { controllerName: this.#o.controllerName } : {}),
      ...(this.#o.gatewayAddresses ? { addresses: this.#o.gatewayAddresses } : {}),
    };
  }

  async #gateways(inputs: StatusInputs, gateways: KubeObject[], now: string): Promise<WriteResult | 'closed'> {
    const facts = this.#gatewayFacts(inputs);
    let out: WriteResult = 'ok';
    for (const gateway of gateways) {
      if (this.#closed) return 'closed';
      const next = mergeGatewayStatus(gateway.status, desiredGatewayStatus(gateway, facts), gateway.metadata.generation, now);
      if (!next) continue;
      const result = await this.#write(GATEWAYS, gateway, { addresses: null, ...next });
      if (result === 'stop') return 'stop';
      if (result === 'conflict') out = 'conflict';
    }
    return out;
  }

  async #classes(classes: Iterable<KubeObject>, now: string): Promise<WriteResult | 'closed'> {
    let out: WriteResult = 'ok';
    for (const cls of ourClasses(classes, this.#o.controllerName)) {
      if (this.#closed) return 'closed';
      const next = mergeClassConditions(cls.status, cls.metadata.generation, now);
      if (!next) continue;
      const result = await this.#write(GATEWAY_CLASSES, cls, { conditions: next });
      if (result === 'stop') return 'stop';
      if (result === 'conflict') out = 'conflict';
    }
    return out;
  }

  #retryLater(inputs: StatusInputs, ms: number): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.update(this.#latest ?? inputs);
    }, ms);
    this.#retry.unref();
  }

  /** Sends one object's status; 'stop' when writing its kind should pause (forbidden). */
  async #write(type: ResourceType, obj: KubeObject, status: Record<string, unknown>): Promise<WriteResult> {
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name;
    const id = ns === undefined ? name : `${ns}/${name}`;
    // GatewayClasses are cluster-scoped.
    const path = ns === undefined ? `${collectionPath(type, undefined)}/${encodeURIComponent(name)}/status` : objectPath(type, ns, name, 'status');
    // resourceVersion makes the merge patch conditional: another writer's change in between gives 409, not a lost update.
    const body = { metadata: { resourceVersion: obj.metadata.resourceVersion }, status };
    try {
      await this.#o.client.patch(path, body);
      this.stats.writes++;
      if (this.#forbiddenUntil.has(type.kind)) this.#o.log.info(`writing ${type.kind} status works again`);
      this.#forbiddenUntil.delete(type.kind);
      this.#o.log.debug(`${type.kind} status written`, { [type.kind === 'InferencePool' ? 'pool' : 'object']: id });
      return 'ok';
    } catch (e) {
      const err = e as Error;
      if (err instanceof KubeApiError && err.status === 403) {
        this.stats.forbidden++;
        const retryMs = this.#o.forbiddenRetryMs ?? 60_000;
        if (!this.#forbiddenUntil.has(type.kind)) {
          this.#o.log.error(`cannot write ${type.kind} status: ${err.message}. Routing is not affected. Grant get, patch and update on ${type.plural}/status to this service account (docs/kubernetes.md#rbac), or run with --no-pool-status; retrying every ${Math.round(retryMs / 1000)} s`);
        }
        this.#forbiddenUntil.set(type.kind, (this.#o.now?.() ?? new Date()).getTime() + retryMs);
        return 'stop';
      }
      if (err instanceof KubeApiError && err.status === 409) {
        this.stats.conflicts++;
        return 'conflict';
      }
      if (err instanceof KubeApiError && err.status === 404) return 'ok'; // deleted meanwhile
      this.#o.log.warn(`writing status of ${type.kind} ${id} failed: ${err.message}`);
      return 'ok';
    }
  }
}

function parentsOf(obj: KubeObject): ParentStatusJson[] {
  const parents = (obj.status as { parents?: unknown } | undefined)?.parents;
  return Array.isArray(parents) ? parents.filter((p): p is ParentStatusJson => !!p && typeof p === 'object' && !!(p as ParentStatusJson).parentRef) : [];
}

/**
 * Whether a parent key (parentKey's `group/kind/namespace/name#section`) names a Gateway called `name`, in any
 * namespace: `--gateway-name` names a Gateway by name alone, as the routes' parentRefs are matched to it.
 */
function namesGateway(key: string, name: string): boolean {
  const [, kind, , rest] = key.split('/');
  return kind === 'Gateway' && rest?.split('#')[0] === name;
}
