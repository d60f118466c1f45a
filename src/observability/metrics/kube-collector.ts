/**
 * The Kubernetes watches' state at scrape time, one series set per reflector (each resource, and the pods of
 * each pool's selector): listed yet, failing now, an optional resource unreadable, objects held, and the reflector's
 * own counts.
 */
import type { Registry } from 'prom-client';
import type { Reflector } from '../../config/kube/reflector.js';
import { CollectedFamily, type Emit } from './collected-family.js';
import { register } from './family.js';

const W = ['resource', 'api_version', 'namespace', 'selector'];

export class KubeCollector {
  #reflectors: () => readonly Reflector[] = () => [];
  readonly families: CollectedFamily[];

  constructor() {
    const family = (type: 'gauge' | 'counter', name: string, help: string, value: (r: Reflector) => number): CollectedFamily =>
      new CollectedFamily({ type, name, help, labelNames: W, collect: (emit) => this.#each(emit, value) });
    this.families = [
      family('gauge', 'infergate_kube_watch_synced', 'Whether the watch has listed its resource once (1); readiness waits for every watch.', (r) => (r.synced ? 1 : 0)),
      family('gauge', 'infergate_kube_watch_failing', 'Whether the watch is failing now (1): the API server refused or broke the list or watch and it is retrying with backoff. An optional resource that cannot be read is not failing (infergate_kube_watch_unreadable).', (r) => (r.failingSince !== undefined ? 1 : 0)),
      family('gauge', 'infergate_kube_watch_unreadable', 'Whether an optional resource cannot be read (1): its CRD is not installed, or RBAC does not grant it. infergate runs without it and checks again every 30 s; one of the two InferenceObjective groups is missing in most clusters.', (r) => (r.unreadable ? 1 : 0)),
      family('gauge', 'infergate_kube_watch_objects', 'Objects the watch holds now.', (r) => r.size),
      family('counter', 'infergate_kube_watch_lists_total', 'Full lists the watch made (the first one, then after an expired resourceVersion or a failure).', (r) => r.stats.lists),
      family('counter', 'infergate_kube_watch_failures_total', 'List or watch calls that failed (not counting an optional resource found unreadable).', (r) => r.stats.failures),
    ];
  }

  /** The reflectors to report (the Kubernetes source's `reflectors()`); none in file mode. */
  watch(reflectors: () => readonly Reflector[]): void {
    this.#reflectors = reflectors;
  }

  register(registry: Registry): void {
    for (const f of this.families) register(registry, f);
  }

  #each(emit: Emit, value: (r: Reflector) => number): void {
    // Two watches of one type and namespace differ by selector (allowlist labels, pool selectors); a repeat would be one series twice.
    const seen = new Set<string>();
    for (const r of this.#reflectors()) {
      const ns = r.namespace ?? '';
      const key = `${r.type.plural}\u0000${r.type.apiVersion}\u0000${ns}\u0000${r.selector}`;
      if (seen.has(key)) continue;
      seen.add(key);
      emit(value(r), r.type.plural, r.type.apiVersion, ns, r.selector);
    }
  }
}
