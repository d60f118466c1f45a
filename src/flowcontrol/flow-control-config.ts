/**
 * The `flowControl` block of llm-d's EndpointPickerConfig (and `featureGates: [flowControl]`) -> a checked
 * config: global and per-band limits, TTLs, each band's fairness and ordering policies, the saturation detector.
 */
import { STATIC_USAGE_LIMIT_POLICY_TYPE, isUsageLimitPolicy } from './static-usage-limit-policy.js';
import type { Plugin } from '../epp/framework/plugin.js';
import { describeValue } from '../epp/framework/param-reader.js';
import { MAX_DURATION_MS, parseGoDuration } from '../go-duration.js';
import type { PluginRegistry } from '../epp/framework/registry.js';
import { UTILIZATION_DETECTOR_TYPE, UtilizationDetector, type SaturationThresholds } from '../epp/plugins/utilization-detector.js';
import type { ReportIssue } from '../epp/config/epp-config-error.js';
import { CONCURRENCY_DETECTOR_TYPE, ConcurrencyDetector } from './concurrency-detector.js';
import { DEFAULT_ACTIVE_WINDOW_MS, type FairShareHoldbackConfig } from './fair-share-holdback.js';
import { isFairnessPolicy, type FairnessPolicy } from './fairness-policy.js';
import { GLOBAL_STRICT_FAIRNESS_POLICY_TYPE } from './global-strict-fairness-policy.js';
import { FCFS_ORDERING_POLICY_TYPE } from './fcfs-ordering-policy.js';
import { isOrderingPolicy, type OrderingPolicy } from './ordering-policy.js';
import { parseQuantity } from './quantity.js';
import type { SaturationSource } from './saturation-gate.js';

/** The feature gate that turns flow control on (llm-d's name). */
export const FLOW_CONTROL_GATE = 'flowControl';

/** llm-d's defaults: 60 s queue TTL, bands of 5000 requests and 1 GB, global limits off. */
export const DEFAULT_REQUEST_TTL_MS = 60_000;
export const DEFAULT_BAND_MAX_REQUESTS = 5000;
export const DEFAULT_BAND_MAX_BYTES = 1e9;

export interface BandConfig {
  maxRequests: number;
  maxBytes: number;
  fairness: FairnessPolicy;
  ordering: OrderingPolicy;
}

export interface FlowControlConfig {
  /** Global limits over every band; Infinity when unset. */
  maxRequests: number;
  maxBytes: number;
  /** How long a request may wait while the pool has endpoints; 0 = no limit. */
  defaultRequestTTLMs: number;
  /** How long a request may wait while the pool has no endpoint; follows `defaultRequestTTLMs` unless set. */
  noEndpointRequestTTLMs: number;
  /** Bands configured by priority. */
  bands: ReadonlyMap<number, BandConfig>;
  /** Templates for priorities no band names: one for priority >= 0, one for negative (sheddable). */
  defaultBand: BandConfig;
  defaultNegativeBand: BandConfig;
  detector: SaturationSource;
  /** The usage limit policy's threshold (static-usage-limit-policy): dispatch while saturation is below it; 1 by default. */
  usageCeiling: number;
  /** infergate's own: per-flow shares of in-flight capacity while several flows are active; off when undefined. */
  fairShareHoldback?: FairShareHoldbackConfig | undefined;
  /** The config's `agent-identity` plugin: a request naming no fairness ID takes its coding agent's session id (llm-d's Director). */
  agentIdentity?: AgentIdentitySource | undefined;
}

/** What flow control asks an `agent-identity` plugin: the agent session id of a request, by its lower-case headers. */
export interface AgentIdentitySource {
  identify(get: (name: string) => string | undefined): string | undefined;
}

const FIELDS = ['maxBytes', 'maxRequests', 'defaultRequestTTL', 'noEndpointRequestTTL', 'defaultPriorityBand', 'defaultNegativePriorityBand', 'priorityBands', 'saturationDetector', 'usageLimitPolicyPluginRef', 'enableEviction', 'fairShareHoldback'];
const HOLDBACK_FIELDS = ['activeWindow'];
const BAND_FIELDS = ['priority', 'maxBytes', 'maxRequests', 'fairnessPolicyRef', 'orderingPolicyRef'];

/** What the rest of the config says of the saturation detector, for a flowControl block that names none. */
export interface LegacyDetector {
  /** The top-level `saturationDetector` (deprecated in llm-d, which then copies it under flowControl). */
  saturationDetector?: Record<string, unknown> | undefined;
  /** The thresholds the legacy admission reads (GIE's top-level block, or the plugin named utilization-detector). */
  thresholds?: SaturationThresholds | undefined;
}

/** Whether `featureGates` lists the flowControl gate. */
export function flowControlGateOn(featureGates: unknown): boolean {
  return Array.isArray(featureGates) && featureGates.includes(FLOW_CONTROL_GATE);
}

/**
 * Reads the block, resolving policy and detector references against the config's plugins (a reference to
 * an undeclared name that is a built-in policy type gets a default instance, as in llm-d). Collects issues;
 * returns undefined when there were any.
 */
export function buildFlowControlConfig(
  raw: Record<string, unknown> | undefined,
  plugins: Map<string, Plugin>,
  registry: PluginRegistry,
  issue: ReportIssue,
  warn: (message: string) => void,
  legacy: LegacyDetector = {},
): FlowControlConfig | undefined {
  const block = raw ?? {};
  let ok = true;
  const fail = (path: (string | number)[], field: string, message: string): undefined => {
    ok = false;
    issue(['flowControl', ...path], 'flowControl', field, message);
    return undefined;
  };
  for (const k of Object.keys(block)) if (!FIELDS.includes(k)) fail([k], k, `unknown field; known fields: ${FIELDS.join(', ')}`);
  if (block.enableEviction === true) warn(`flowControl.enableEviction is ignored: infergate does not evict requests in flight`);

  const quantity = (path: (string | number)[], field: string, v: unknown, def: number): number => {
    if (v === undefined || v === null) return def;
    const q = parseQuantity(v);
    if (q === undefined) return fail(path, field, `must be a quantity such as 5000 or "1Gi" (0: not set), got ${describeValue(v)}`) ?? def;
    // As llm-d: "0" counts as not set (no global limit; a band's default), and a limit is the quantity's
    // Value(), rounded up to a whole request or byte ("100m" is 1, not a limit no request fits).
    if (q === 0) return def;
    return Math.ceil(Number(q.toPrecision(15)));
  };
  const duration = (field: string, def: number): number => {
    const v = block[field];
    if (v === undefined || v === null) return def;
    const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
    if (ms === undefined || ms < 0) return fail([field], field, `must be a duration such as "30s" ("0s" disables), got ${describeValue(v)}`) ?? def;
    if (ms > MAX_DURATION_MS) return fail([field], field, `must be at most 596h (Node.js keeps no timer past 24.8 days; "0s" disables the limit), got ${describeValue(v)}`) ?? def;
    return ms;
  };
  const policy = <T extends Plugin>(path: (string | number)[], field: string, ref: unknown, def: string, is: (p: Plugin) => p is T, what: string): T | undefined => {
    const name = ref === undefined || ref === null ? def : ref;
    if (typeof name !== 'string' || name === '') return fail(path, field, `must name a ${what} plugin, got ${describeValue(ref)}`);
    let p = plugins.get(name);
    if (!p && registry.has(name)) {
      p = registry.create(name, name, {});
      plugins.set(name, p);
    }
    const why = p === undefined ? registry.whyNotBuilt(name) : undefined;
    if (why !== undefined) return fail(path, field, `names \`${name}\`, ${why}`);
    if (!p || !is(p)) return fail(path, field, `must name ${/^[aeio]/.test(what) ? 'an' : 'a'} ${what} plugin (declared under plugins, or a built-in type such as ${def}), got "${name}"`);
    return p;
  };
  const band = (path: (string | number)[], at: string, v: unknown): BandConfig | undefined => {
    const b = v === undefined || v === null ? {} : v;
    if (typeof b !== 'object' || Array.isArray(b)) return fail(path, at, `must be a mapping, got ${describeValue(v)}`);
    const m = b as Record<string, unknown>;
    for (const k of Object.keys(m)) if (!BAND_FIELDS.includes(k)) fail([...path, k], `${at}.${k}`, `unknown field; known fields: ${BAND_FIELDS.join(', ')}`);
    const fairness = policy([...path, 'fairnessPolicyRef'], `${at}.fairnessPolicyRef`, m.fairnessPolicyRef, GLOBAL_STRICT_FAIRNESS_POLICY_TYPE, isFairnessPolicy, 'fairness-policy');
    const ordering = policy([...path, 'orderingPolicyRef'], `${at}.orderingPolicyRef`, m.orderingPolicyRef, FCFS_ORDERING_POLICY_TYPE, isOrderingPolicy, 'ordering-policy');
    if (!fairness || !ordering) return undefined;
    return {
      maxRequests: quantity([...path, 'maxRequests'], `${at}.maxRequests`, m.maxRequests, DEFAULT_BAND_MAX_REQUESTS),
      maxBytes: quantity([...path, 'maxBytes'], `${at}.maxBytes`, m.maxBytes, DEFAULT_BAND_MAX_BYTES),
      fairness,
      ordering,
    };
  };

  const defaultRequestTTLMs = duration('defaultRequestTTL', DEFAULT_REQUEST_TTL_MS);
  const noEndpointRequestTTLMs = duration('noEndpointRequestTTL', defaultRequestTTLMs);
  // As llm-d (registry.applyDefaults): a band that is written, the negative template and each listed band
  // included, takes what it leaves out from the system defaults, not from defaultPriorityBand; only an unwritten
  // defaultNegativePriorityBand is defaultPriorityBand.
  const defaultBand = band(['defaultPriorityBand'], 'defaultPriorityBand', block.defaultPriorityBand);
  const defaultNegativeBand = block.defaultNegativePriorityBand === undefined || block.defaultNegativePriorityBand === null ? defaultBand : band(['defaultNegativePriorityBand'], 'defaultNegativePriorityBand', block.defaultNegativePriorityBand);
  const bands = new Map<number, BandConfig>();
  const list = block.priorityBands ?? [];
  if (!Array.isArray(list)) fail(['priorityBands'], 'priorityBands', `must be a list, got ${describeValue(list)}`);
  else {
    list.forEach((item: unknown, i) => {
      const at = `priorityBands[${i}]`;
      const pr = (item as Record<string, unknown> | null)?.priority;
      if (typeof pr !== 'number' || !Number.isInteger(pr)) return fail(['priorityBands', i, 'priority'], `${at}.priority`, `is required: an integer priority (an InferenceObjective's), got ${describeValue(pr)}`);
      if (bands.has(pr)) return fail(['priorityBands', i, 'priority'], `${at}.priority`, `duplicates another band's priority ${pr}`);
      const b = band(['priorityBands', i], at, item);
      if (b) bands.set(pr, b);
      return undefined;
    });
  }
  // llm-d copies the deprecated top-level saturationDetector under flowControl when that has none; a bad
  // reference there is reported once, at its own place, by the legacy admission's reading.
  const own = block.saturationDetector !== undefined && block.saturationDetector !== null;
  const detector = readDetector(own ? block.saturationDetector : legacy.saturationDetector, plugins, registry, own ? fail : () => undefined, legacy.thresholds);
  const fairShareHoldback = readHoldback(block.fairShareHoldback, detector, fail);
  // As llm-d: without a reference, the plugin named static-usage-limit-policy, else that policy's default (1.0).
  const usage = policy(['usageLimitPolicyPluginRef'], 'usageLimitPolicyPluginRef', block.usageLimitPolicyPluginRef, STATIC_USAGE_LIMIT_POLICY_TYPE, isUsageLimitPolicy, 'usage-limit-policy');
  const maxRequests = quantity(['maxRequests'], 'maxRequests', block.maxRequests, Infinity);
  const maxBytes = quantity(['maxBytes'], 'maxBytes', block.maxBytes, Infinity);
  if (!ok || !defaultBand || !defaultNegativeBand || !detector || !usage) return undefined;
  return {
    usageCeiling: usage.threshold,
    maxRequests,
    maxBytes,
    defaultRequestTTLMs,
    noEndpointRequestTTLMs,
    bands,
    defaultBand,
    defaultNegativeBand,
    detector,
    fairShareHoldback,
  };
}

/**
 * `fairShareHoldback` (infergate's own, not llm-d's): absent or null is off; a mapping (`{}` for the defaults)
 * turns it on. Shares are of the concurrency detector's capacity, so it needs that detector.
 */
function readHoldback(v: unknown, detector: SaturationSource | undefined, fail: (path: (string | number)[], field: string, message: string) => undefined): FairShareHoldbackConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return fail(['fairShareHoldback'], 'fairShareHoldback', `must be a mapping such as {activeWindow: 1s} ({} for the defaults), got ${describeValue(v)}`);
  const m = v as Record<string, unknown>;
  for (const k of Object.keys(m)) if (!HOLDBACK_FIELDS.includes(k)) fail(['fairShareHoldback', k], `fairShareHoldback.${k}`, `unknown field; known fields: ${HOLDBACK_FIELDS.join(', ')}`);
  let activeWindowMs = DEFAULT_ACTIVE_WINDOW_MS;
  if (m.activeWindow !== undefined && m.activeWindow !== null) {
    const ms = typeof m.activeWindow === 'string' ? parseGoDuration(m.activeWindow) : undefined;
    if (ms === undefined || ms < 0) return fail(['fairShareHoldback', 'activeWindow'], 'fairShareHoldback.activeWindow', `must be a duration such as "1s" ("0s": active only while waiting or in flight), got ${describeValue(m.activeWindow)}`);
    activeWindowMs = ms;
  }
  if (detector !== undefined && detector.kind !== 'concurrency') {
    return fail(['fairShareHoldback'], 'fairShareHoldback', `needs saturationDetector.pluginRef to name a ${CONCURRENCY_DETECTOR_TYPE} (shares are of its maxConcurrency x endpoints); the ${detector.detector.type} has no capacity in requests`);
  }
  return { activeWindowMs };
}

/** `saturationDetector: {pluginRef}`: a utilization-detector or concurrency-detector; default the one named utilization-detector, else llm-d's defaults. */
function readDetector(
  v: unknown,
  plugins: Map<string, Plugin>,
  registry: PluginRegistry,
  fail: (path: (string | number)[], field: string, message: string) => undefined,
  thresholds?: Partial<SaturationThresholds>,
): SaturationSource | undefined {
  const ref = (v as Record<string, unknown> | undefined)?.pluginRef;
  let p: Plugin | undefined;
  if (ref === undefined) {
    // The plugin named utilization-detector, else a default one, as llm-d's ensureSaturationDetector: a declared
    // concurrency-detector that no pluginRef names is a filter only, as there (the legacy admission reads the same).
    // GIE's top-level block of thresholds, when that is what the config has, sets the default one's.
    p = plugins.get(UTILIZATION_DETECTOR_TYPE) ?? new UtilizationDetector(UTILIZATION_DETECTOR_TYPE, thresholds);
  } else if (typeof ref === 'string') {
    p = plugins.get(ref);
    if (!p && (ref === UTILIZATION_DETECTOR_TYPE || ref === CONCURRENCY_DETECTOR_TYPE)) p = registry.create(ref, ref, {});
  }
  if (p instanceof UtilizationDetector) return { kind: 'utilization', detector: p };
  if (p instanceof ConcurrencyDetector) return { kind: 'concurrency', detector: p };
  return fail(['saturationDetector', 'pluginRef'], 'saturationDetector.pluginRef', `must name a ${UTILIZATION_DETECTOR_TYPE} or ${CONCURRENCY_DETECTOR_TYPE} plugin, got ${describeValue(ref)}`);
}
