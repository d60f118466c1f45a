/** Live state of every pool's endpoints, rebuilt from each config snapshot while keeping per-endpoint state. */
import type { InferencePool } from '../../api/inference-pool.js';
import type { ConfigSnapshot } from '../../config/snapshot.js';
import { isH2c } from '../../upstream/h2c.js';
import { Endpoint } from './endpoint.js';
import type { PoolMember } from './pool-members.js';
import type { ModelCatalog } from '../../bbr/model-catalog.js';
import { buildModelCatalog } from './model-catalog.js';

/** A pool as the picker sees it: its usable endpoints and the selected pods that cannot serve, with why. */
export interface PoolView {
  readonly key: string;
  readonly pool: InferencePool;
  readonly endpoints: readonly Endpoint[];
  readonly excluded: readonly PoolMember[];
}

/** A snapshot's endpoints, computed but not yet visible to requests. */
export interface PreparedApply {
  /** Endpoints new to this snapshot: discover what they serve before `commit`. */
  added: Endpoint[];
  /** Endpoints that leave with this snapshot. */
  removed: Endpoint[];
  /** Makes the new pools visible at once: no request sees half an update. */
  commit(): void;
}

export class Datastore {
  #endpoints = new Map<string, Endpoint>();
  #pools = new Map<string, PoolView>();
  #catalog: ModelCatalog | undefined;

  /**
   * Re-derives pools and endpoints from a snapshot. Endpoints whose address persists keep their object, so
   * in-flight counts and discovered models carry over a reload.
   */
  prepare(snapshot: ConfigSnapshot): PreparedApply {
    const next = new Map<string, Endpoint>();
    const pools = new Map<string, PoolView>();
    const added: Endpoint[] = [];
    const replaced: Endpoint[] = [];
    for (const [key, pool] of snapshot.pools) {
      const endpoints: Endpoint[] = [];
      const excluded: PoolMember[] = [];
      for (const m of snapshot.members.get(key) ?? []) {
        if (m.excluded || !m.pod.podIP) {
          excluded.push(m);
          continue;
        }
        const h2c = isH2c(pool.appProtocol);
        for (const port of pool.targetPorts) {
          const probe = new Endpoint(m.pod, m.pod.podIP, port, h2c);
          // An address in two pools with different protocols keeps the first pool's (the snapshot warns).
          let ep = next.get(probe.address) ?? this.#endpoints.get(probe.address);
          if (ep && ep.h2c !== h2c && !next.has(ep.address)) {
            // The pool changed its appProtocol: a new endpoint, asked again what it serves over the new protocol.
            replaced.push(ep);
            ep = undefined;
          }
          if (!ep) {
            ep = probe;
            added.push(ep);
          }
          // Safe before commit: the pod object only carries labels and readiness, read for messages.
          ep.pod = m.pod;
          next.set(ep.address, ep);
          if (!endpoints.includes(ep)) endpoints.push(ep);
        }
      }
      pools.set(key, { key, pool, endpoints, excluded });
    }
    // Replaced endpoints leave too, so their connections (of the old protocol) are closed.
    const removed = [...[...this.#endpoints.values()].filter((e) => !next.has(e.address)), ...replaced];
    const commit = (): void => {
      this.#endpoints = next;
      this.#pools = pools;
      this.invalidateCatalog();
    };
    return { added, removed, commit };
  }

  /** prepare + commit, for callers that need no discovery in between (tests, explain). */
  apply(snapshot: ConfigSnapshot): Omit<PreparedApply, 'commit'> {
    const p = this.prepare(snapshot);
    p.commit();
    return p;
  }

  pool(key: string): PoolView | undefined {
    return this.#pools.get(key);
  }

  pools(): IterableIterator<PoolView> {
    return this.#pools.values();
  }

  endpoints(): IterableIterator<Endpoint> {
    return this.#endpoints.values();
  }

  endpoint(address: string): Endpoint | undefined {
    return this.#endpoints.get(address);
  }

  /** What the pods say they serve, rebuilt lazily after discovery changes rather than per request. */
  catalog(): ModelCatalog {
    this.#catalog ??= buildModelCatalog(this.#endpoints.values());
    return this.#catalog;
  }

  invalidateCatalog(): void {
    this.#catalog = undefined;
  }
}
