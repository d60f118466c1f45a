/**
 * Writes InferencePool status (pool-status.ts) when infergate is the gateway. Only with the RBAC it is given:
 * a forbidden write is logged with what to grant and retried rarely, never fatal (in llm-d, RBAC errors
 * crash-looped the EPP). Conflicts are retried after the next change; writes are serialized.
 */
import type { Logger } from '../../observability/logger.js';
import type { ConfigSnapshot } from '../snapshot.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import { desiredPoolParents, mergeParents, parentKey, type ParentStatusJson, type PoolStatusFacts } from './pool-status.js';
import type { KubeObject } from './reflector.js';
import { INFERENCE_POOLS, objectPath } from './resource-types.js';

export interface StatusWriterOptions {
  client: KubeClient;
  log: Logger;
  gatewayName?: string;
  /** After a 403, how long before a write is tried again (RBAC may be granted meanwhile). */
  forbiddenRetryMs?: number;
  now?: () => Date;
}

export interface StatusInputs extends Omit<PoolStatusFacts, 'snapshot' | 'gatewayName'> {
  snapshot: ConfigSnapshot;
  /** The pools as the API server has them now (called again on a retry). */
  pools: () => Iterable<KubeObject>;
}

export class PoolStatusWriter {
  readonly #o: StatusWriterOptions;
  /** Pool key -> parent keys infergate wrote, so it can remove them when the route goes. */
  readonly #written = new Map<string, Set<string>>();
  #forbiddenUntil = 0;
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

  /** Brings every pool's status in line with `inputs`; a call during a run is folded into one more run. */
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
    if (now.getTime() < this.#forbiddenUntil) {
      // The retry timer can fire before the clock says the pause is over (the wall clock stepped back): try again then.
      this.#retryLater(inputs, this.#forbiddenUntil - now.getTime());
      return;
    }
    const desired = desiredPoolParents({ ...inputs, ...(this.#o.gatewayName !== undefined ? { gatewayName: this.#o.gatewayName } : {}) });
    let conflict = false;
    for (const pool of inputs.pools()) {
      if (this.#closed) return;
      const ns = pool.metadata.namespace ?? 'default';
      const key = `${ns}/${pool.metadata.name}`;
      const want = desired.get(key) ?? [];
      const written = this.#written.get(key) ?? new Set<string>();
      const isOurs = (k: string): boolean => written.has(k) || (this.#o.gatewayName !== undefined && k.endsWith(`/Gateway/${ns}/${this.#o.gatewayName}`));
      const existing = ((pool.status as { parents?: ParentStatusJson[] } | undefined)?.parents ?? []).filter((p) => p && typeof p === 'object' && p.parentRef);
      // metav1.Time is RFC 3339 to the second.
      const next = mergeParents(existing, want, ns, pool.metadata.generation, isOurs, now.toISOString().replace(/\.\d+Z$/, 'Z'));
      if (!next) continue;
      const result = await this.#write(pool, next);
      if (result === 'stop') {
        this.#retryLater(inputs, this.#o.forbiddenRetryMs ?? 60_000);
        return;
      }
      if (result === 'conflict') conflict = true;
      else this.#written.set(key, new Set(want.map((w) => parentKey(w.parentRef, ns))));
    }
    // Another writer changed a pool since it was read; by the retry the watch has brought its new version.
    if (conflict) this.#retryLater(inputs, 500);
  }

  #retryLater(inputs: StatusInputs, ms: number): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.update(this.#latest ?? inputs);
    }, ms);
    this.#retry.unref();
  }

  /** Sends one pool's parents; 'stop' when writing should pause (forbidden). */
  async #write(pool: KubeObject, parents: ParentStatusJson[]): Promise<'ok' | 'conflict' | 'stop'> {
    const ns = pool.metadata.namespace ?? 'default';
    const name = pool.metadata.name;
    // resourceVersion makes the merge patch conditional: another writer's change in between gives 409, not a lost update.
    const body = { metadata: { resourceVersion: pool.metadata.resourceVersion }, status: { parents: parents.length > 0 ? parents : null } };
    try {
      await this.#o.client.patch(objectPath(INFERENCE_POOLS, ns, name, 'status'), body);
      this.stats.writes++;
      if (this.#forbiddenUntil > 0) this.#o.log.info('writing InferencePool status works again');
      this.#forbiddenUntil = 0;
      this.#o.log.debug('InferencePool status written', { pool: `${ns}/${name}`, parents: parents.length });
      return 'ok';
    } catch (e) {
      const err = e as Error;
      if (err instanceof KubeApiError && err.status === 403) {
        this.stats.forbidden++;
        const retryMs = this.#o.forbiddenRetryMs ?? 60_000;
        if (this.#forbiddenUntil === 0) {
          this.#o.log.error(`cannot write InferencePool status: ${err.message}. Routing is not affected. Grant get, patch and update on inferencepools/status to this service account (docs/kubernetes.md#rbac), or run with --no-pool-status; retrying every ${Math.round(retryMs / 1000)} s`);
        }
        this.#forbiddenUntil = (this.#o.now?.() ?? new Date()).getTime() + retryMs;
        return 'stop';
      }
      if (err instanceof KubeApiError && err.status === 409) {
        this.stats.conflicts++;
        return 'conflict';
      }
      if (err instanceof KubeApiError && err.status === 404) return 'ok'; // deleted meanwhile
      this.#o.log.warn(`writing status of InferencePool ${ns}/${name} failed: ${err.message}`);
      return 'ok';
    }
  }
}
