/**
 * The Kubernetes configuration source: watches InferencePools, HTTPRoutes, allowlist ConfigMaps,
 * InferenceObjectives and InferenceModelRewrites, plus the Pods each pool selects, the ConfigMaps pools name
 * for their EndpointPickerConfig and (for the gateway) the Services their endpointPickerRefs name and the
 * Gateways and GatewayClasses whose status it writes, and turns every change into a whole new snapshot.
 */
import type { Logger } from '../../logger.js';
import type { OfferContext } from '../edit-guard.js';
import { EPP_CONFIG_ANNOTATION } from '../../api/endpoint-picker-config-annotation.js';
import { isObjectName } from '../../api/object-name.js';
import { ALLOWLIST_LABELS } from '../../api/allowlist.js';
import { buildSnapshot, type ConfigSnapshot, type SnapshotOptions } from '../snapshot.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import type { ReadResult } from '../../api/resource.js';
import { invalidPools, objectId, podView, readObjects, specView } from './read-objects.js';
import type { KubeObject } from './kube-object.js';
import { Reflector, type ReflectorOptions } from './reflector.js';
import { REMOVAL_BURST_MAX_MS, REMOVAL_QUIET_MS, RemovalBurst } from './removal-burst.js';
import { logRejectedChanges } from './rejected-log.js';
import { notReadyReason, watchProblems, type KubeWatchProblems } from './watch-report.js';
import { CONFIG_MAPS, GATEWAYS, GATEWAY_CLASSES, HTTP_ROUTES, INFERENCE_MODEL_REWRITES, INFERENCE_OBJECTIVES, INFERENCE_POOLS, LEGACY_INFERENCE_MODEL_REWRITES, LEGACY_INFERENCE_OBJECTIVES, PODS, SERVICES, type ResourceType } from './resource-types.js';
import { readServiceFacts, type ServiceFacts } from '../../api/service.js';

/** Tuning of the underlying reflectors (tests shorten timeouts and backoff). */
export type ReflectorTuning = Partial<Pick<ReflectorOptions, 'watchTimeoutSeconds' | 'idleTimeoutMs' | 'pageSize' | 'backoff' | 'optionalRetryMs' | 'random'>>;

export interface KubeSourceOptions extends Omit<SnapshotOptions, 'lenient' | 'services'> {
  client: KubeClient;
  log: Logger;
  /** Puts a snapshot in force (through the edit guard, src/config/edit-guard.ts), saying whether the watches just reconnected. */
  apply: (snapshot: ConfigSnapshot, context: OfferContext) => Promise<void>;
  /** Called after each snapshot is in force, with the source (pool status is written from here). */
  afterApply?: (snapshot: ConfigSnapshot, source: KubeConfigSource) => void;
  /** How long events are gathered after the first one (a `kubectl apply` of many objects) into one snapshot. */
  debounceMs?: number;
  /**
   * After the first sync, how long a change waits for the watch it newly needs (the pods of an edited
   * selector) before it is applied without it; the old snapshot serves meanwhile.
   */
  newWatchGraceMs?: number;
  /**
   * After the first sync, a change that follows InferencePool or HTTPRoute deletions waits until none has come for
   * this long (at most REMOVAL_BURST_MAX_MS), so that a CRD or namespace deleted object by object is judged whole
   * by the edit guard (removal-burst.ts). Default REMOVAL_QUIET_MS.
   */
  removalQuietMs?: number;
  /** How long after a watch failed or relisted its changes are judged as OfferContext.afterReconnect (RECONNECT_CAUTION_MS). */
  reconnectCautionMs?: number;
  reflector?: ReflectorTuning;
  /**
   * Also watch the Service each pool's endpointPickerRef names, so the snapshot says which exist (the gateway,
   * `serve`, gives refs a meaning: src/epp/picker-ref.ts). Off: refs are not checked.
   */
  followPickerRefs?: boolean;
  /** Also watch Gateways and GatewayClasses, whose status the gateway writes (`serve`). Off: not read. */
  followGateways?: boolean;
  /**
   * One-shot reads (`validate --kube`, `explain --kube`): `firstSync()` rejects as soon as a required list is
   * refused in a way retrying will not mend (401, 403, a CRD that is not installed), instead of retrying until
   * the caller's timeout. A running gateway retries: RBAC or the CRD may come later.
   */
  failFast?: boolean;
}

/**
 * How long after a watch failed or relisted (410 Gone) a change counts as coming from lists that are still coming
 * back one kind at a time (OfferContext.afterReconnect): a few backoff steps and a list each.
 */
export const RECONNECT_CAUTION_MS = 10_000;

/** Answers a one-shot read gives up on at once: bad credentials, no RBAC, no CRD. Anything else may pass. */
const LASTING_FAILURES = new Set([401, 403, 404]);

interface Dynamic {
  reflector: Reflector;
  createdAt: number;
  /** For a Service watch: the `namespace/name` it lists. */
  service?: string;
}

export class KubeConfigSource {
  readonly #o: KubeSourceOptions;
  readonly #namespace: string | undefined;
  readonly #static: Reflector[];
  readonly #pools: Reflector;
  readonly #routes: Reflector;
  readonly #gateways: Reflector | undefined;
  readonly #gatewayClasses: Reflector | undefined;
  readonly #dynamic = new Map<string, Dynamic>();
  readonly #removals: RemovalBurst;
  /** `namespace/name` of Services refs name that no object can be named: absent, without asking. */
  #unnameableServices = new Set<string>();
  /** The last "applying the change without ..." warning, so that it is not repeated at every change. */
  #pendingWarned: string | undefined;
  /** When a watch last failed or had to list again, and the relists counted then (see RECONNECT_CAUTION_MS). */
  #disturbedAt = Number.NEGATIVE_INFINITY;
  #relistsSeen = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #snapshot: ConfigSnapshot | undefined;
  #rejected = new Map<string, string[]>();
  #warnings = new Set<string>();
  /** Objects already read into resources; entries go when the reflectors drop the objects. */
  readonly #read = new WeakMap<KubeObject, ReadResult>();
  #resolveFirst!: (s: ConfigSnapshot) => void;
  #rejectFirst!: (e: Error) => void;
  readonly #first: Promise<ConfigSnapshot>;

  constructor(opts: KubeSourceOptions) {
    this.#o = opts;
    this.#namespace = opts.client.target.namespace;
    this.#removals = new RemovalBurst(opts.removalQuietMs ?? REMOVAL_QUIET_MS, REMOVAL_BURST_MAX_MS);
    this.#first = new Promise((resolve, reject) => {
      this.#resolveFirst = resolve;
      this.#rejectFirst = reject;
    });
    // Only failFast rejects it; a caller that stops waiting must not leave an unhandled rejection behind.
    this.#first.catch(() => undefined);
    this.#pools = this.#reflector(INFERENCE_POOLS, this.#namespace, {});
    this.#routes = this.#reflector(HTTP_ROUTES, this.#namespace, {});
    // GatewayClasses are cluster-scoped: listed cluster-wide even when the rest is one namespace.
    this.#gateways = opts.followGateways ? this.#reflector(GATEWAYS, this.#namespace, {}) : undefined;
    // Under a namespaced Role (the standalone-gateway overlay) they cannot be granted: expected, so not a warning.
    const classesForbidden = this.#namespace === undefined ? undefined : 'expected with a namespaced Role, which cannot grant cluster-scoped GatewayClasses: every Gateway of the namespace counts as this gateway\'s unless --gateway-name picks one';
    this.#gatewayClasses = opts.followGateways ? this.#reflector(GATEWAY_CLASSES, undefined, {}, classesForbidden) : undefined;
    this.#static = [
      this.#pools,
      this.#routes,
      ...(this.#gateways && this.#gatewayClasses ? [this.#gateways, this.#gatewayClasses] : []),
      // Only ConfigMaps carrying an allowlist label (value exactly "true") are allowlists: llm-d's label or
      // GIE's. A selector cannot OR two keys, so one watch each; a ConfigMap with both is read once.
      ...ALLOWLIST_LABELS.map((label) => this.#reflector(CONFIG_MAPS, this.#namespace, { labelSelector: `${label}=true` })),
      this.#reflector(INFERENCE_OBJECTIVES, this.#namespace, {}),
      this.#reflector(INFERENCE_MODEL_REWRITES, this.#namespace, {}),
      this.#reflector(LEGACY_INFERENCE_OBJECTIVES, this.#namespace, {}),
      this.#reflector(LEGACY_INFERENCE_MODEL_REWRITES, this.#namespace, {}),
    ];
  }

  start(): void {
    for (const r of this.#static) r.start();
  }

  /** Resolves with the first snapshot put in force, once every watch has listed. With `failFast`, may reject. */
  firstSync(): Promise<ConfigSnapshot> {
    return this.#first;
  }

  get snapshot(): ConfigSnapshot | undefined {
    return this.#snapshot;
  }

  /** The InferencePools as the API server has them (status included), valid or not. */
  rawPools(): IterableIterator<KubeObject> {
    return this.#pools.items();
  }

  /** The HTTPRoutes as the API server has them (status included), valid or not. */
  rawRoutes(): IterableIterator<KubeObject> {
    return this.#routes.items();
  }

  /**
   * The Gateways and GatewayClasses as the API server has them; undefined when not followed or unreadable (the
   * CRD is not installed or RBAC does not grant it), which is not the same as none.
   */
  rawGateways(): IterableIterator<KubeObject> | undefined {
    return this.#gateways && !this.#gateways.unreadable ? this.#gateways.items() : undefined;
  }

  rawGatewayClasses(): IterableIterator<KubeObject> | undefined {
    return this.#gatewayClasses && !this.#gatewayClasses.unreadable ? this.#gatewayClasses.items() : undefined;
  }

  /** `Kind/namespace/name` -> why the object is left out of the snapshot. */
  get rejected(): ReadonlyMap<string, readonly string[]> {
    return this.#rejected;
  }

  /** Every watch now open, static and per pool. */
  reflectors(): Reflector[] {
    return [...this.#static, ...[...this.#dynamic.values()].map((d) => d.reflector)];
  }

  /**
   * For /readyz details (and the dashboard's /api/state): the watches failing now (the API server unreachable, a
   * list forbidden), with the error and since when; undefined while none is. The snapshot in force keeps serving
   * meanwhile, so readiness stays; this is what says the configuration may be stale.
   */
  watchProblems(): KubeWatchProblems | undefined {
    return watchProblems(this.reflectors(), this.#snapshot !== undefined);
  }

  /** For /readyz: which lists are still pending and why. */
  notReadyReason(): string {
    return notReadyReason(this.reflectors());
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.all(this.reflectors().map((r) => r.stop()));
    await this.#running;
  }

  #reflector(type: ResourceType, namespace: string | undefined, sel: { labelSelector?: string; fieldSelector?: string }, forbiddenExpected?: string): Reflector {
    const reflector: Reflector = new Reflector({
      client: this.#o.client,
      type,
      namespace,
      ...sel,
      log: this.#o.log,
      onChange: () => {
        if (type === INFERENCE_POOLS || type === HTTP_ROUTES) this.#removals.sizeChanged(reflector, reflector.size, Date.now());
        this.#schedule();
      },
      onFailure: (e) => {
        this.#disturbedAt = Date.now();
        if (this.#o.failFast && !this.#snapshot && !type.optional && e instanceof KubeApiError && LASTING_FAILURES.has(e.status)) {
          this.#rejectFirst(new Error(`cannot list ${reflector.description}: ${reflector.lastError ?? e.message}`));
        }
      },
      view: type === PODS ? podView : specView,
      ...(forbiddenExpected !== undefined ? { forbiddenExpected } : {}),
      // failFast is the one-shot read's (validate, explain): nothing is checked again after it.
      ...(this.#o.failFast ? { oneShot: true } : {}),
      ...this.#o.reflector,
    });
    return reflector;
  }

  /**
   * Gathers events for `delay` after the first one, then rebuilds. Later events do not push the rebuild back:
   * a steady stream of pod events (a rolling update) must still produce a snapshot every window.
   */
  #schedule(delay = this.#o.debounceMs ?? 20): void {
    if (this.#closed) return;
    const at = Date.now() + delay;
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#rebuild();
    }, delay);
  }

  /** Serialized: a change during a rebuild triggers one more rebuild when it ends. */
  #rebuild(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#rebuildOnce();
        } catch (e) {
          this.#o.log.error(`configuration change from the Kubernetes API not applied; the last good configuration stays in force: ${(e as Error).message}`);
        }
      } while (this.#again && !this.#closed);
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #rebuildOnce(): Promise<void> {
    if (this.#closed) return;
    this.#followPools();
    const now = Date.now();
    const grace = this.#o.newWatchGraceMs ?? 5000;
    const pending = this.reflectors().filter((r) => !r.synced);
    if (pending.length > 0) {
      // Before the first snapshot, every list must be in: readiness waits. After it, a new watch gets a grace
      // period so that an edited selector does not briefly leave its pool with no pods.
      if (!this.#snapshot || !this.#static.every((r) => r.synced)) return;
      const young = [...this.#dynamic.values()].filter((d) => !d.reflector.synced && now - d.createdAt < grace);
      if (young.length > 0) {
        this.#schedule(Math.max(...young.map((d) => d.createdAt + grace - now)) + 1);
        return;
      }
      const message = `applying the change without ${pending.map((r) => r.description).join(', ')}, not listed after ${grace} ms${pending.map((r) => (r.lastError ? `: ${r.lastError}` : '')).join('')}`;
      // Once per stuck watch and error, not at every later change (a rolling update's pod events).
      this.#o.log[message === this.#pendingWarned ? 'debug' : 'warn'](message);
      this.#pendingWarned = message;
    } else this.#pendingWarned = undefined;
    // Deletions still coming (a CRD or a namespace being deleted object by object): wait for the rest, so the edit
    // guard judges the whole removal, not each slice of it. The snapshot in force serves meanwhile.
    const burst = this.#snapshot ? this.#removals.waitMs(now) : 0;
    if (burst > 0) {
      this.#schedule(burst + 1);
      return;
    }
    const objects = this.reflectors().flatMap((r) => (r.type === SERVICES || r.type === GATEWAYS || r.type === GATEWAY_CLASSES ? [] : [...r.items()]));
    const read = readObjects(objects, this.#read);
    logRejectedChanges(this.#o.log, this.#rejected, read.rejected, new Set(objects.map(objectId)));
    this.#rejected = read.rejected;
    const services = this.#services();
    const built = buildSnapshot(read.resources, { ...(this.#o.gatewayName !== undefined ? { gatewayName: this.#o.gatewayName } : {}), ...(services ? { services } : {}), invalidPools: invalidPools(read.rejected), lenient: true });
    // The readers' warnings about single objects go first, as a file source lists them (src/config/file-source.ts).
    const snapshot = read.warnings.length === 0 ? built : { ...built, warnings: [...read.warnings, ...built.warnings] };
    const fresh = snapshot.warnings.filter((w) => !this.#warnings.has(w));
    for (const w of fresh) this.#o.log.warn(w);
    this.#warnings = new Set(snapshot.warnings);
    if (this.#closed) return;
    await this.#o.apply(snapshot, { afterReconnect: this.#afterReconnect() });
    const first = this.#snapshot === undefined;
    this.#snapshot = snapshot;
    if (first) {
      this.#o.log.info('first sync from the Kubernetes API done', { watches: this.reflectors().length, objects: objects.length });
      // Ready, but serving nothing: most often a --namespace typo or the wrong context, which a 404 per request hides.
      if (this.#pools.size === 0) {
        const where = this.#namespace === undefined ? 'in any namespace' : `in namespace ${this.#namespace}`;
        this.#o.log.warn(`the Kubernetes API has no InferencePool ${where}, so every request gets 404 model_not_found until one is created; if the pools are elsewhere, check --namespace and --context (${this.#o.client.target.describe})`);
      }
      this.#resolveFirst(snapshot);
    }
    this.#o.afterApply?.(snapshot, this);
  }

  /** Whether a watch failed or relisted within RECONNECT_CAUTION_MS: its list may be one of several still coming back. */
  #afterReconnect(): boolean {
    let relists = 0;
    for (const r of this.reflectors()) relists += r.stats.relists;
    // A count that moved either way: a relist since the last look, or a watch closed with its pool.
    if (relists !== this.#relistsSeen) this.#disturbedAt = Date.now();
    this.#relistsSeen = relists;
    return Date.now() - this.#disturbedAt < (this.#o.reconnectCautionMs ?? RECONNECT_CAUTION_MS);
  }

  /**
   * Opens a pod watch per pool selector and a ConfigMap watch per named EndpointPickerConfig; closes unused
   * ones. Pools are read by the same reader as the snapshot (cached), so an invalid pool, which the snapshot
   * leaves out, opens no watch.
   */
  #followPools(): void {
    const wanted = new Map<string, { type: ResourceType; namespace: string; labelSelector?: string; fieldSelector?: string; service?: string }>();
    const unnameable = new Set<string>();
    for (const pool of readObjects(this.#pools.items(), this.#read).resources) {
      if (pool.kind !== 'InferencePool') continue;
      const ns = pool.meta.namespace;
      const selector = labelSelector(pool.selector);
      wanted.set(`pods ${ns} ${selector}`, { type: PODS, namespace: ns, labelSelector: selector });
      // A name no object can have is not watched: the API server refuses it as a field selector, and that watch
      // would never list, holding back readiness for every pool. The snapshot reports the pool's bad name.
      const cm = pool.meta.annotations[EPP_CONFIG_ANNOTATION];
      if (cm && isObjectName(cm)) wanted.set(`configmap ${ns} ${cm}`, { type: CONFIG_MAPS, namespace: ns, fieldSelector: `metadata.name=${cm}` });
      const ref = pool.endpointPickerRef;
      // Only a core Service can be looked up; picker-ref.ts judges any other kind without it.
      if (this.#o.followPickerRefs && ref && ref.kind === 'Service' && (ref.group ?? '') === '') {
        if (!isObjectName(ref.name)) unnameable.add(`${ns}/${ref.name}`);
        else wanted.set(`service ${ns} ${ref.name}`, { type: SERVICES, namespace: ns, fieldSelector: `metadata.name=${ref.name}`, service: `${ns}/${ref.name}` });
      }
    }
    this.#unnameableServices = unnameable;
    for (const [key, d] of this.#dynamic) {
      if (wanted.has(key)) continue;
      this.#dynamic.delete(key);
      void d.reflector.stop();
    }
    for (const [key, w] of wanted) {
      if (this.#dynamic.has(key)) continue;
      const reflector = this.#reflector(w.type, w.namespace, { ...(w.labelSelector ? { labelSelector: w.labelSelector } : {}), ...(w.fieldSelector ? { fieldSelector: w.fieldSelector } : {}) });
      this.#dynamic.set(key, { reflector, createdAt: Date.now(), ...(w.service ? { service: w.service } : {}) });
      reflector.start();
    }
  }

  /**
   * The watched Services by `namespace/name`: facts, or null when listed and absent. One that could not be
   * listed (forbidden) or not yet is left out, so its ref is not judged on a guess. Undefined when not following.
   */
  #services(): Map<string, ServiceFacts | null> | undefined {
    if (!this.#o.followPickerRefs) return undefined;
    const out = new Map<string, ServiceFacts | null>([...this.#unnameableServices].map((key) => [key, null]));
    for (const d of this.#dynamic.values()) {
      if (!d.service || !d.reflector.synced || d.reflector.unreadable) continue;
      const obj = d.reflector.items().next();
      out.set(d.service, obj.done ? null : readServiceFacts(obj.value));
    }
    return out;
  }

}

/** `app=vllm,model=gemma`: a pool's `matchLabels` as a label selector, keys sorted so equal selectors share a watch. */
function labelSelector(matchLabels: Readonly<Record<string, string>>): string {
  return Object.entries(matchLabels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
