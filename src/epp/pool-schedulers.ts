/**
 * One Scheduler per InferencePool, built from the pool's EndpointPickerConfig: a ConfigMap the pool names in
 * its `infergate.io/endpoint-picker-config` annotation, else the file given with `--epp-config`, else
 * llm-d's default profile. A pool whose config text is unchanged keeps its Scheduler (and its prefix index)
 * across reloads.
 */
import { ConfigError, formatIssue, type ConfigIssue } from '../api/config-issue.js';
import type { InferencePool } from '../api/inference-pool.js';
import { keyOf } from '../api/object-meta.js';
import type { ConfigSnapshot } from '../config/snapshot.js';
import type { LoadedEndpointPickerConfig } from './config/build-scheduler-config.js';
import { DEFAULT_CONFIG_FILE, DEFAULT_ENDPOINT_PICKER_CONFIG_YAML } from './config/default-endpoint-picker-config.js';
import { loadEndpointPickerConfig } from './config/load-endpoint-picker-config.js';
import type { PluginRegistry } from './framework/registry.js';
import { Scheduler } from './framework/scheduler.js';
import { registerBuiltins } from './plugins/register-builtins.js';
import type { Logger } from '../logger.js';
import type { PickerFailure, PickerFailureSink } from './failure-mode.js';
import { resolvePickerRef, type ExternalPickerRef, type PickerRef } from './picker-ref.js';
import { failureModeOf } from './failure-mode.js';

// The annotation's name lives with the API's names (src/api), where the config loaders read it too.
import { EPP_CONFIG_ANNOTATION } from '../api/endpoint-picker-config-annotation.js';
import { isObjectName } from '../api/object-name.js';
export { EPP_CONFIG_ANNOTATION };

export interface PoolScheduler {
  readonly scheduler: Scheduler;
  readonly loaded: LoadedEndpointPickerConfig;
  /** Where the config came from, for `explain` and logs. */
  readonly origin: string;
  readonly text: string;
}

export interface ConfigText {
  text: string;
  file: string;
}

export interface PreparedSchedulers {
  warnings: string[];
  /** Pool key -> why its own EndpointPickerConfig could not be used (only in isolating mode). */
  problems: ReadonlyMap<string, string>;
  /** Schedulers of endpoints' pools that left: their per-endpoint state is dropped on commit. */
  commit(): void;
}

export interface PoolSchedulersOptions {
  /** `--epp-service-name`: infergate's own Service, for deciding who picks each pool (src/epp/picker-ref.ts). */
  eppServiceName?: string;
  /** Where picker failures and picker-ref changes are logged; unset, they are not. */
  log?: Logger;
}

/** A picker failing on every request must not write a log line per request. */
const PICKER_FAILURE_LOG_INTERVAL_MS = 10_000;

export class PoolSchedulers implements PickerFailureSink {
  readonly #registry: PluginRegistry;
  readonly #fallback: ConfigSource;
  readonly #options: PoolSchedulersOptions;
  #byPool = new Map<string, PoolScheduler>();
  #problems: ReadonlyMap<string, string> = new Map();
  #refs: ReadonlyMap<string, PickerRef> = new Map();
  readonly #failureLogged = new Map<string, { at: number; since: number }>();
  #instrument: ((scheduler: Scheduler) => void) | undefined;

  /** `defaultConfig`: the `--epp-config` file, used by pools that name no ConfigMap. */
  constructor(defaultConfig?: ConfigText, registry: PluginRegistry = registerBuiltins(), options: PoolSchedulersOptions = {}) {
    this.#registry = registry;
    this.#options = options;
    const fallback = defaultConfig ?? { text: DEFAULT_ENDPOINT_PICKER_CONFIG_YAML, file: DEFAULT_CONFIG_FILE };
    this.#fallback = { ...fallback, origin: fallback.file };
    // Checked now, not when a pool first uses it: a bad --epp-config must stop startup even if every pool
    // names its own ConfigMap. Throws EndpointPickerConfigError naming the file.
    this.#build(this.#fallback);
  }

  /**
   * Builds (or keeps) every pool's scheduler; throws ConfigError naming the pool and the config's problems.
   * With `isolate` (live sources), a pool whose config is missing or invalid keeps its previous scheduler, or
   * gets the default one, and the problem is reported in `problems` instead: one bad ConfigMap must not stop
   * every other change from being applied.
   */
  prepare(snapshot: ConfigSnapshot, isolate = false): PreparedSchedulers {
    const next = new Map<string, PoolScheduler>();
    const issues: ConfigIssue[] = [];
    const warnings: string[] = [];
    const problems = new Map<string, string>();
    const fail = (key: string, issue: ConfigIssue): void => {
      if (!isolate) {
        issues.push(issue);
        return;
      }
      const prior = this.#byPool.get(key);
      const kept = prior ?? this.#build(this.#fallback);
      next.set(key, kept);
      problems.set(key, issue.message);
      warnings.push(`${formatIssue(issue)}; the pool ${prior ? 'keeps its previous' : 'uses the default'} EndpointPickerConfig (${kept.origin}) until this is fixed`);
    };
    for (const [key, pool] of snapshot.pools) {
      const source = configTextFor(pool, snapshot, this.#fallback);
      if ('issue' in source) {
        fail(key, source.issue);
        continue;
      }
      const prior = this.#byPool.get(key);
      if (prior && prior.text === source.text) {
        next.set(key, prior);
        continue;
      }
      try {
        const built = this.#build(source);
        for (const w of built.loaded.warnings) warnings.push(`InferencePool ${key}: ${w}`);
        next.set(key, built);
      } catch (e) {
        const field = source.origin === this.#fallback.file ? null : `metadata.annotations.${EPP_CONFIG_ANNOTATION}`;
        fail(key, { location: pool.source, field, message: `EndpointPickerConfig from ${source.origin} is invalid: ${(e as Error).message}` });
      }
    }
    if (issues.length > 0) throw new ConfigError(issues);
    const refs = this.#resolveRefs(snapshot, warnings);
    return {
      warnings,
      problems,
      commit: () => {
        this.#byPool = next;
        this.#problems = problems;
        this.#refs = refs;
      },
    };
  }

  /** Who picks each pool; a pool whose decision changed (or is new and not infergate) gets a warning. */
  #resolveRefs(snapshot: ConfigSnapshot, warnings: string[]): Map<string, PickerRef> {
    const refs = new Map<string, PickerRef>();
    const ctx = {
      ...(this.#options.eppServiceName !== undefined ? { eppServiceName: this.#options.eppServiceName } : {}),
      ...(snapshot.services ? { services: snapshot.services } : {}),
      declaredServices: snapshot.declaredServices,
    };
    for (const [key, pool] of snapshot.pools) {
      const ref = resolvePickerRef(pool, ctx);
      refs.set(key, ref);
      const prior = this.#refs.get(key);
      const external = ref.picker === 'external' ? describeExternal(ref, pool) : undefined;
      if (prior?.picker === ref.picker && prior.reason === ref.reason && (prior.picker !== 'external' || describeExternal(prior, pool) === external)) continue;
      if (ref.picker === 'missing') warnings.push(`InferencePool ${key}: ${ref.reason}; its requests get 500 invalid_endpoint_picker_ref until that is fixed`);
      // Not a warning: a pool served by another picker is a setup, not a problem.
      else if (external !== undefined) this.#options.log?.info(`InferencePool ${key}: ${ref.reason}; ${external}`);
      else if (prior) this.#options.log?.info(`InferencePool ${key}: ${ref.reason}`);
    }
    return refs;
  }

  /** Who picks `key`'s endpoints; undefined for a pool not in force. */
  pickerRef(key: string): PickerRef | undefined {
    return this.#refs.get(key);
  }

  /** The external endpoint pickers of the pools in force (their gRPC channels stay open; others close). */
  externalPickerRefs(): ExternalPickerRef[] {
    return [...this.#refs.values()].filter((r): r is ExternalPickerRef => r.picker === 'external');
  }

  /** Logs a scheduler failure (failure-mode.ts), at most once per pool every 10 s, counting the ones in between. */
  pickerFailed(f: PickerFailure): void {
    const log = this.#options.log;
    if (!log) return;
    const now = Date.now();
    const last = this.#failureLogged.get(f.pool);
    if (last && now - last.at < PICKER_FAILURE_LOG_INTERVAL_MS) {
      last.since++;
      return;
    }
    this.#failureLogged.set(f.pool, { at: now, since: 0 });
    const outcome = f.endpoint ? `FailOpen: sent to ${f.endpoint.address} without picking` : `${f.mode}: refused with 503 endpoint_picker_unavailable`;
    log.error(`the endpoint picker of InferencePool ${f.pool} failed; ${outcome}`, {
      error: f.error instanceof Error ? f.error.message : String(f.error),
      ...(f.error instanceof Error && f.error.stack ? { stack: f.error.stack } : {}),
      ...(last && last.since > 0 ? { failures_since_last_logged: last.since } : {}),
    });
  }

  /** Pools in force whose own EndpointPickerConfig could not be used, and why (isolating mode only). */
  get problems(): ReadonlyMap<string, string> {
    return this.#problems;
  }

  /** A new Scheduler, with fresh plugin instances, from a config's text; throws EndpointPickerConfigError. */
  #build(source: ConfigSource): PoolScheduler {
    // The gateway filters by served model before any profile runs (src/epp/eligibility.ts), so profiles need not.
    const loaded = loadEndpointPickerConfig(source.text, { file: source.file, registry: this.#registry, implicitServedModelFilter: false });
    const scheduler = new Scheduler(loaded.schedulerConfig);
    this.#instrument?.(scheduler);
    return { scheduler, loaded, origin: source.origin, text: source.text };
  }

  /** Calls `fn` on every scheduler in force and on each one built from now on (metrics set their timers). */
  instrument(fn: (scheduler: Scheduler) => void): void {
    this.#instrument = fn;
    for (const p of this.all()) fn(p.scheduler);
  }

  /** The pools' schedulers in force, each once. */
  all(): Set<PoolScheduler> {
    return new Set(this.#byPool.values());
  }

  forPool(key: string): PoolScheduler | undefined {
    return this.#byPool.get(key);
  }

  /** Drops per-endpoint state (prefix index, LRU) of an endpoint that left the configuration. */
  forget(address: string): void {
    for (const p of this.#byPool.values()) p.scheduler.forget(address);
  }
}

/** What infergate does for a pool an external picker serves, for the log line. */
function describeExternal(ref: ExternalPickerRef, pool: InferencePool): string {
  return `infergate asks that endpoint picker over ext_proc at ${ref.address.target} (${ref.address.via}) for each request; failureMode ${failureModeOf(pool)} when it cannot answer`;
}

/** A config's text and where it came from, for `explain` and logs. */
type ConfigSource = ConfigText & { origin: string };

function configTextFor(pool: InferencePool, snapshot: ConfigSnapshot, fallback: ConfigSource): ConfigSource | { issue: ConfigIssue } {
  const ref = pool.meta.annotations[EPP_CONFIG_ANNOTATION];
  if (ref === undefined) return fallback;
  const field = `metadata.annotations.${EPP_CONFIG_ANNOTATION}`;
  if (!isObjectName(ref)) return { issue: { location: pool.source, field, message: `${JSON.stringify(ref)} is not a ConfigMap name (lowercase letters, digits, '-' and '.'); name the ConfigMap in the pool's namespace that holds its EndpointPickerConfig` } };
  const cm = snapshot.configMaps.get(`${pool.meta.namespace}/${ref}`);
  if (!cm) return { issue: { location: pool.source, field, message: `names ConfigMap ${pool.meta.namespace}/${ref}, which is not in the configuration` } };
  const keys = Object.keys(cm.data);
  const dataKey = keys.includes('config.yaml') ? 'config.yaml' : keys.length === 1 ? keys[0]! : undefined;
  if (dataKey === undefined) {
    return { issue: { location: pool.source, field, message: `ConfigMap ${keyOf(cm.meta)} must have a data key config.yaml (or exactly one key) holding the EndpointPickerConfig; it has ${keys.length === 0 ? 'none' : keys.join(', ')}` } };
  }
  return { text: cm.data[dataKey]!, file: `${cm.source.file} (ConfigMap ${keyOf(cm.meta)}, data.${dataKey})`, origin: `ConfigMap ${keyOf(cm.meta)}` };
}
