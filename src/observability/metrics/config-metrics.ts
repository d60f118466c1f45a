/**
 * Configuration reloads, as Prometheus reports its own (`prometheus_config_last_reload_successful`): how
 * many were applied or rejected, whether the last one applied, when, and which version is in force.
 */
import type { Registry } from 'prom-client';
import type { ConfigSnapshot } from '../../config/snapshot.js';
import { CollectedFamily } from './collected-family.js';
import { register } from './family.js';
import { CounterFamily, GaugeFamily, type ValueSeries } from './value-family.js';

export class ConfigMetrics {
  readonly reloads = new CounterFamily({
    name: 'infergate_config_reloads_total',
    help: 'Configuration changes from the source (files or the Kubernetes API): ok when put in force, rejected when they could not be read or applied (the last good configuration stays in force).',
    labelNames: ['result'],
  });
  readonly lastSuccessful = new GaugeFamily({ name: 'infergate_config_last_reload_successful', help: 'Whether the last configuration change was put in force (1) or rejected (0).' });
  readonly lastSuccess = new GaugeFamily({ name: 'infergate_config_last_reload_success_timestamp_seconds', help: 'When a configuration was last put in force, in seconds since the epoch.' });
  readonly version = new GaugeFamily({ name: 'infergate_config_version', help: 'The version of the configuration in force (the config_version /readyz shows): every configuration read gets the next number, so one held back and then replaced or dropped leaves a gap.' });
  readonly warnings = new GaugeFamily({
    name: 'infergate_config_warnings',
    help: 'Warnings about the configuration in force (a route naming a missing pool, an adapter two allowlists give different bases, a pool selecting no pods); the log and the dashboard (/api/state issues.warnings) say what they are.',
  });
  readonly held: CollectedFamily;
  readonly ignored: CollectedFamily;
  readonly #ok: ValueSeries;
  readonly #rejected: ValueSeries;
  #heldBack: () => boolean = () => false;
  #ignoredObjects: () => ReadonlyMap<string, unknown> = () => new Map();

  constructor() {
    this.#ok = this.reloads.series('ok');
    this.#rejected = this.reloads.series('rejected');
    this.held = new CollectedFamily({
      type: 'gauge',
      name: 'infergate_config_change_held',
      help: 'Whether a configuration change that removes too much is held back for the settle period (1); /readyz details.config says what it removes.',
      collect: (emit) => emit(this.#heldBack() ? 1 : 0),
    });
    // With --kube an invalid object is left out while the rest applies, so every reload is `ok`: this is what
    // an alert on a broken object reads.
    this.ignored = new CollectedFamily({
      type: 'gauge',
      name: 'infergate_config_objects_ignored',
      help: 'With --kube: objects left out of the configuration as invalid until they are fixed, by kind; the log and the dashboard (/api/state issues.rejectedObjects) say why.',
      labelNames: ['kind'],
      collect: (emit) => {
        const byKind = new Map<string, number>();
        // Ids are `Kind[.group]/namespace/name` (src/config/kube/read-objects.ts).
        for (const id of this.#ignoredObjects().keys()) {
          const kind = id.slice(0, id.indexOf('/'));
          byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
        }
        for (const [kind, n] of byKind) emit(n, kind);
      },
    });
  }

  /** A change was put in force (`snapshot`) or rejected. */
  reloaded(ok: true, snapshot: ConfigSnapshot): void;
  reloaded(ok: false): void;
  reloaded(ok: boolean, snapshot?: ConfigSnapshot): void {
    (ok ? this.#ok : this.#rejected).inc();
    this.lastSuccessful.series().set(ok ? 1 : 0);
    if (ok && snapshot) {
      this.lastSuccess.series().set(Date.now() / 1000);
      this.version.series().set(snapshot.version);
      this.warnings.series().set(snapshot.warnings.length);
    }
  }

  /** Where `infergate_config_objects_ignored` reads from: the Kubernetes source's objects set aside (`Kind/ns/name` keys). */
  watchIgnored(ignored: () => ReadonlyMap<string, unknown>): void {
    this.#ignoredObjects = ignored;
  }

  /** Where `infergate_config_change_held` reads from (the edit guard). */
  watchHeld(isHeld: () => boolean): void {
    this.#heldBack = isHeld;
  }

  register(registry: Registry): void {
    for (const f of [this.reloads, this.lastSuccessful, this.lastSuccess, this.version, this.warnings, this.held, this.ignored]) register(registry, f);
  }
}
