/**
 * A checked EndpointPickerConfig spec -> plugin instances, profiles and a profile handler, applying llm-d's
 * defaults (name = type, weight 1, max-score-picker, single-profile-handler, a `default` profile).
 */
import type { DataConsumer, Plugin } from '../framework/plugin.js';
import { isAdmitter, isConfigLinked, isDataProducer, isFilter, isPicker, isPreRequest, isResponseComplete, isResponseHeaders, isScorer } from '../framework/plugin.js';
import { isProfileHandler, type ProfileHandler } from '../framework/profile-handler.js';
import { PluginConfigError, type PluginRegistry } from '../framework/registry.js';
import type { SchedulerConfig } from '../framework/scheduler.js';
import { SchedulingProfile, type ProfileEntry } from '../framework/scheduling-profile.js';
import { APPROX_PREFIX_CACHE_PRODUCER_TYPE, ApproxPrefixCacheProducer } from '../plugins/approx-prefix-cache-producer.js';
import { MAX_SCORE_PICKER_TYPE } from '../plugins/max-score-picker.js';
import { NO_HIT_LRU_SCORER_TYPE } from '../plugins/no-hit-lru-scorer.js';
import { PREFIX_CACHE_SCORER_TYPE } from '../plugins/prefix-cache-scorer.js';
import { SERVED_MODEL_FILTER_TYPE } from '../plugins/served-model-filter.js';
import { SINGLE_PROFILE_HANDLER_TYPE } from '../plugins/single-profile-handler.js';
import { AgentIdentity } from '../plugins/session/agent-identity.js';
import { TOKEN_PRODUCER_TYPE } from '../plugins/token-producer.js';
import { TOKENIZED_PROMPT_KEY } from '../plugins/tokenized-prompt.js';
import { DEFAULT_SATURATION_THRESHOLDS, UTILIZATION_DETECTOR_TYPE, UtilizationDetector, readSaturationThresholds, type SaturationThresholds } from '../plugins/utilization-detector.js';
import { ParamReader, closest, formatSite } from '../framework/param-reader.js';
import type { EndpointPickerConfigSpec, ParsedConfig, PluginSpec, SchedulingProfileSpec } from './endpoint-picker-config.js';
import { issueReporter, type EppConfigIssue, type ReportIssue } from './epp-config-error.js';
import { CONCURRENCY_DETECTOR_TYPE, ConcurrencyDetector } from '../../flowcontrol/concurrency-detector.js';
import { buildFlowControlConfig, flowControlGateOn, type FlowControlConfig } from '../../flowcontrol/flow-control-config.js';

export interface BuildOptions {
  /**
   * Put a `served-model-filter` (onMissing: Fail) first in every profile that has none (default true): a pool
   * may mix models, and an endpoint that has not said what it serves is not sent a request it may 404.
   */
  implicitServedModelFilter?: boolean;
}

/** What the proxy and the admission controller need from one config. */
export interface LoadedEndpointPickerConfig {
  file: string;
  /** The spec after defaults (what `infergate explain` can print as the effective config). */
  spec: EndpointPickerConfigSpec;
  schedulerConfig: SchedulerConfig;
  /** For `poolSaturation`: the `utilization-detector` plugin's thresholds, GIE's `saturationDetector` block, or defaults. */
  saturation: SaturationThresholds;
  /**
   * The `concurrency-detector` that `saturationDetector.pluginRef` names, when it names one: the admission of
   * sheddable requests without flow control reads its saturation instead of the thresholds, as llm-d's legacy
   * admission asks whichever detector is configured.
   */
  admissionDetector?: ConcurrencyDetector;
  /** Flow control, when `featureGates` lists `flowControl` (src/flowcontrol); undefined otherwise. */
  flowControl?: FlowControlConfig;
  warnings: string[];
}

export interface BuildOutcome {
  loaded?: LoadedEndpointPickerConfig;
  issues: EppConfigIssue[];
}

/** Builds every plugin and profile, collecting every problem (one bad plugin does not hide the next). */
export function buildSchedulerConfig(parsed: ParsedConfig, file: string, registry: PluginRegistry, options: BuildOptions = {}): BuildOutcome {
  const { spec, lineOf } = parsed;
  const issues: EppConfigIssue[] = [];
  const warnings = [...parsed.warnings];
  const issue = issueReporter(file, lineOf, issues);

  const plugins = new Map<string, Plugin>();
  const create = (p: PluginSpec, i: number, params: Record<string, unknown>): Plugin | undefined => {
    try {
      return registry.create(p.type, p.name, params, { at: p.at, warn: (m) => warnings.push(`${file}: ${m}`) });
    } catch (err) {
      if (!(err instanceof PluginConfigError)) throw err;
      issue(['plugins', i, ...fieldPath(err.field)], formatSite(err.site), err.field, err.reason);
      return undefined;
    }
  };
  // Approximate producers first: the prefix-cache-scorers that read one are built with its parameters.
  const approx = new Map<string, ApproxPrefixCacheProducer>();
  spec.plugins.forEach((p, i) => {
    const built = p.type === APPROX_PREFIX_CACHE_PRODUCER_TYPE ? create(p, i, p.parameters) : undefined;
    if (built instanceof ApproxPrefixCacheProducer) approx.set(p.name, built);
  });
  const readApprox = new Set<string>();
  spec.plugins.forEach((p, i) => {
    const params = p.type === PREFIX_CACHE_SCORER_TYPE ? withApproximateParams(p.parameters, approx, readApprox) : p.type === NO_HIT_LRU_SCORER_TYPE ? withoutApproximateRef(p.parameters, approx, readApprox) : p.parameters;
    const built = p.type === APPROX_PREFIX_CACHE_PRODUCER_TYPE ? approx.get(p.name) : create(p, i, params);
    if (built) plugins.set(p.name, built);
  });
  for (const [name, producer] of approx) {
    if (!readApprox.has(name)) warnings.push(`${file}: ${formatSite({ at: spec.plugins.find((p) => p.name === name)?.at ?? 'plugin', name, type: producer.type })}: is read by no prefix-cache-scorer (one naming it in prefixMatchInfoProducerName${name === APPROX_PREFIX_CACHE_PRODUCER_TYPE ? ', or naming no producer' : ''}), so its parameters do nothing`);
  }
  const failedPlugins = new Set(spec.plugins.map((p) => p.name).filter((n) => !plugins.has(n)));
  // Every name the file declares, built or not: a reference's error lists these, not only the ones that built.
  const declared = spec.plugins.map((p) => p.name);
  /** The plugin named `name`, else a new one the config did not declare, added to the effective spec as `at`. */
  const addDefault = (type: string, name: string = type, parameters: Record<string, unknown> = {}, at = 'default'): Plugin => {
    const existing = plugins.get(name);
    if (existing) return existing;
    const p = registry.create(type, name, parameters);
    plugins.set(name, p);
    spec.plugins.push({ name, type, parameters, at });
    return p;
  };

  // llm-d: no profiles -> one named `default` with every filter, scorer and picker, weight 1.
  if (spec.schedulingProfiles.length === 0) {
    const refs = spec.plugins.filter((p) => plugins.get(p.name) && hasRole(plugins.get(p.name) as Plugin)).map((p) => ({ pluginRef: p.name, at: p.at }));
    spec.schedulingProfiles.push({ name: 'default', plugins: refs, at: 'schedulingProfiles (default)' });
  }

  const implicit = options.implicitServedModelFilter !== false;
  const declaredPickers = [...plugins.values()].filter(isPicker);
  const profiles = new Map<string, SchedulingProfile>();
  const referenced = new Set<string>();
  spec.schedulingProfiles.forEach((prof, i) => {
    const entries = profileEntries(prof, i, plugins, declared, failedPlugins, issue, warnings, file);
    if (!entries) return;
    for (const e of entries) referenced.add(e.plugin.name);
    if (!entries.some((e) => isPicker(e.plugin))) {
      // As llm-d: the picker the config declares (a profile that omits it still means it), else max-score-picker.
      // With several declared, llm-d takes one at random (a map's order); the default is the one to predict.
      const picker = declaredPickers.length === 1 ? declaredPickers[0] : undefined;
      if (picker) referenced.add(picker.name);
      entries.push({ plugin: picker ?? addDefault(MAX_SCORE_PICKER_TYPE) });
      prof.plugins.push({ pluginRef: picker?.name ?? MAX_SCORE_PICKER_TYPE, at: 'default' });
    }
    if (implicit && !entries.some((e) => e.plugin.type === SERVED_MODEL_FILTER_TYPE)) {
      const name = plugins.has(SERVED_MODEL_FILTER_TYPE) ? `implicit-${SERVED_MODEL_FILTER_TYPE}` : SERVED_MODEL_FILTER_TYPE;
      entries.unshift({ plugin: addDefault(SERVED_MODEL_FILTER_TYPE, name, { onMissing: 'Fail' }, 'implicit') });
    }
    try {
      profiles.set(prof.name, new SchedulingProfile(prof.name, entries));
    } catch (err) {
      issue(['schedulingProfiles', i], prof.at, 'plugins', (err as Error).message.replace(`profile ${prof.name} `, ''));
    }
  });

  for (const p of spec.plugins) {
    const plugin = plugins.get(p.name);
    // A detector named by saturationDetector does its work there (flow control, admission).
    if (plugin && hasRole(plugin) && !referenced.has(p.name) && p.at.startsWith('plugins[') && spec.saturationDetector?.pluginRef !== p.name) {
      warnings.push(`${file}: ${p.at} (${p.name}) is referenced by no scheduling profile and does nothing`);
    }
  }

  // llm-d creates a token producer for a config whose plugins consume tokens without declaring one; so does this
  // (llm-d's is an estimate, whose ids never match the engine's blocks: this one asks a pod of the pool).
  const producers = [...plugins.values()].filter(isDataProducer);
  if (producers.some((p) => p.consumes?.includes(TOKENIZED_PROMPT_KEY)) && !producers.some((p) => p.produces === TOKENIZED_PROMPT_KEY)) {
    addDefault(TOKEN_PRODUCER_TYPE);
    warnings.push(`${file}: no ${TOKEN_PRODUCER_TYPE} is declared for the precise prefix plugins; one with default parameters was added (tokens from a pod of the pool)`);
  }
  checkRequiredData(spec, plugins, failedPlugins, issue);
  linkPlugins(spec, plugins, failedPlugins, issue, (m) => warnings.push(`${file}: ${m}`));
  const handler = chooseHandler(plugins, spec, profiles.size, failedPlugins, issue, addDefault);
  const saturation = readSaturation(spec, plugins, issue);
  const admissionDetector = namedConcurrencyDetector(spec, plugins);
  const flowControl = flowControlGateOn(spec.featureGates) ? buildFlowControlConfig(spec.flowControl, plugins, registry, issue, (m) => warnings.push(`${file}: ${m}`), { saturationDetector: spec.saturationDetector, thresholds: saturation }) : undefined;
  if (flowControl !== undefined) flowControl.agentIdentity = [...plugins.values()].find((p): p is AgentIdentity => p instanceof AgentIdentity);
  if (issues.length > 0 || !handler) return { issues };
  return { issues, loaded: { file, spec, schedulerConfig: { profiles, handler, plugins }, saturation, ...(admissionDetector ? { admissionDetector } : {}), ...(flowControl ? { flowControl } : {}), warnings } };
}

/**
 * A scorer that reads a producer's data (`prefixMatchInfoProducerName`) needs that producer declared. One that is
 * declared but failed to load has its own error already: a second one here would only send the reader looking
 * for a producer that is there.
 */
function checkRequiredData(spec: EndpointPickerConfigSpec, plugins: ReadonlyMap<string, Plugin>, failed: ReadonlySet<string>, issue: ReportIssue): void {
  const produced = new Set([...plugins.values()].filter(isDataProducer).map((p) => p.produces));
  spec.plugins.forEach((ps, i) => {
    const p = plugins.get(ps.name) as Partial<DataConsumer> | undefined;
    for (const need of p?.requiredData ?? []) {
      const named = ps.parameters[need.field];
      if (produced.has(need.key) || (typeof named === 'string' && failed.has(named))) continue;
      const producers = [...plugins.values()].filter(isDataProducer).map((x) => `${x.name} (${x.type})`);
      issue(['plugins', i, 'parameters', need.field], formatSite({ at: ps.at, name: ps.name, type: ps.type }), `parameters.${need.field}`, `names no producer of this config that writes ${need.key}; declare it under plugins (e.g. type precise-prefix-cache-producer)${producers.length > 0 ? `; producers: ${producers.join(', ')}` : ''}`);
    }
  });
}

/** Resolves what plugins name of their config (a handler's deciders and profiles): problems refuse the config. */
function linkPlugins(spec: EndpointPickerConfigSpec, plugins: ReadonlyMap<string, Plugin>, failed: ReadonlySet<string>, issue: ReportIssue, warn: (m: string) => void): void {
  // Every profile the file declares, built or not: one that failed has its own error, and a reference to it is not a second.
  const config = { plugins, profiles: spec.schedulingProfiles.map((p) => p.name), failed };
  spec.plugins.forEach((ps, i) => {
    const p = plugins.get(ps.name);
    if (p === undefined || !isConfigLinked(p)) return;
    const site = formatSite({ at: ps.at, name: ps.name, type: ps.type });
    const report = p.link(config);
    for (const w of report.warnings) warn(`${site}: ${w}`);
    for (const x of report.issues) issue(['plugins', i, ...fieldPath(x.field)], site, x.field, x.message);
  });
}

function hasRole(p: Plugin): boolean {
  return isFilter(p) || isScorer(p) || isPicker(p);
}

function profileEntries(
  prof: SchedulingProfileSpec,
  i: number,
  plugins: ReadonlyMap<string, Plugin>,
  declared: readonly string[],
  failed: ReadonlySet<string>,
  issue: ReportIssue,
  warnings: string[],
  file: string,
): ProfileEntry[] | undefined {
  const entries: ProfileEntry[] = [];
  const pickers: string[] = [];
  let ok = true;
  prof.plugins.forEach((ref, j) => {
    const path = ['schedulingProfiles', i, 'plugins', j];
    // Checked here, not with the structure, so a negative weight is reported with the file's other problems.
    if (ref.weight !== undefined && ref.weight < 0) {
      ok = false;
      issue([...path, 'weight'], prof.at, `${ref.at}.weight`, `must not be negative, got ${ref.weight}`);
    }
    const plugin = plugins.get(ref.pluginRef);
    if (!plugin) {
      ok = false;
      if (!failed.has(ref.pluginRef)) {
        const near = closest(ref.pluginRef, declared);
        issue([...path, 'pluginRef'], prof.at, `${ref.at}.pluginRef`, `no plugin named "${ref.pluginRef}"${near === undefined ? '' : ` (did you mean ${near}?)`}; plugins: ${declared.join(', ') || 'none'}`);
      }
      return;
    }
    if (entries.some((e) => e.plugin === plugin)) {
      ok = false;
      return issue([...path, 'pluginRef'], prof.at, `${ref.at}.pluginRef`, `"${ref.pluginRef}" is listed twice in this profile`);
    }
    if (isProfileHandler(plugin)) {
      ok = false;
      return issue([...path, 'pluginRef'], prof.at, `${ref.at}.pluginRef`, `"${ref.pluginRef}" is a profile handler; it is declared under plugins only, never in a profile`);
    }
    if (!hasRole(plugin) && !isPreRequest(plugin) && !isResponseComplete(plugin) && !isResponseHeaders(plugin)) {
      // llm-d's profile takes what it can use of a plugin and skips the rest, and its samples list parsers and
      // reporters in profiles: such a config loads, and the reader is told the entry does nothing there.
      const runs = isDataProducer(plugin) ? ': a data producer runs for every request whether a profile lists it or not' : isAdmitter(plugin) ? ': an admitter runs for every request whether a profile lists it or not' : '';
      warnings.push(`${file}: ${prof.at}: ${ref.at}.pluginRef: "${ref.pluginRef}" (${plugin.type}) is not a filter, scorer or picker and is skipped${runs}`);
      return;
    }
    if (isPicker(plugin)) pickers.push(ref.pluginRef);
    if (ref.weight !== undefined && !isScorer(plugin)) warnings.push(`${file}: ${prof.at}: ${ref.at}.weight is ignored: ${ref.pluginRef} (${plugin.type}) is not a scorer`);
    entries.push(ref.weight === undefined ? { plugin } : { plugin, weight: ref.weight });
  });
  if (pickers.length > 1) {
    issue(['schedulingProfiles', i], prof.at, 'plugins', `has ${pickers.length} pickers (${pickers.join(', ')}); a profile takes exactly one`);
    return undefined;
  }
  return ok ? entries : undefined;
}

/** What GIE's and llm-d's profile handler types end with (single-, pd-, disagg-, data-parallel-profile-handler). */
const PROFILE_HANDLER_SUFFIX = '-profile-handler';

function chooseHandler(
  plugins: ReadonlyMap<string, Plugin>,
  spec: EndpointPickerConfigSpec,
  profileCount: number,
  failed: ReadonlySet<string>,
  issue: ReportIssue,
  addDefault: (type: string) => Plugin,
): ProfileHandler | undefined {
  const handlers = [...plugins.values()].filter(isProfileHandler);
  if (handlers.length > 1) {
    issue(['plugins'], '', 'plugins', `declares ${handlers.length} profile handlers (${handlers.map((h) => h.name).join(', ')}); at most one`);
    return undefined;
  }
  let handler = handlers[0];
  if (!handler) {
    // A declared handler that failed to load has its own error; "need a profile handler" would say none is declared.
    if (spec.plugins.some((p) => failed.has(p.name) && p.type.endsWith(PROFILE_HANDLER_SUFFIX))) return undefined;
    if (spec.schedulingProfiles.length > 1) {
      issue(['schedulingProfiles'], '', 'schedulingProfiles', `${spec.schedulingProfiles.length} profiles need a profile handler plugin that chooses between them`);
      return undefined;
    }
    handler = addDefault(SINGLE_PROFILE_HANDLER_TYPE) as ProfileHandler;
  }
  if (handler.type === SINGLE_PROFILE_HANDLER_TYPE && spec.schedulingProfiles.length > 1) {
    issue(['schedulingProfiles'], '', 'schedulingProfiles', `${SINGLE_PROFILE_HANDLER_TYPE} runs one profile; this config has ${spec.schedulingProfiles.length}`);
    return undefined;
  }
  return profileCount > 0 ? handler : undefined;
}

/**
 * The concurrency-detector `saturationDetector.pluginRef` names (the type's own name, undeclared, is one with
 * llm-d's defaults, as flow control reads it); undefined when it names another detector or none.
 */
function namedConcurrencyDetector(spec: EndpointPickerConfigSpec, plugins: ReadonlyMap<string, Plugin>): ConcurrencyDetector | undefined {
  const ref = spec.saturationDetector?.pluginRef;
  if (typeof ref !== 'string') return undefined;
  const p = plugins.get(ref);
  if (p instanceof ConcurrencyDetector) return p;
  return p === undefined && ref === CONCURRENCY_DETECTOR_TYPE ? new ConcurrencyDetector() : undefined;
}

/**
 * llm-d: `saturationDetector: {pluginRef}` names the detector (default the plugin named `utilization-detector`);
 * GIE's older block holds the thresholds themselves.
 */
function readSaturation(spec: EndpointPickerConfigSpec, plugins: ReadonlyMap<string, Plugin>, issue: ReportIssue): SaturationThresholds {
  const sd = spec.saturationDetector;
  // Current llm-d's place for it is under flowControl: its problems are named there (with its line), and with the
  // gate on the flowControl block's own check already reports a bad pluginRef, so it is said once.
  const underFlowControl = sd !== undefined && sd === spec.flowControl?.saturationDetector;
  const at: (string | number)[] = underFlowControl ? ['flowControl', 'saturationDetector'] : ['saturationDetector'];
  const where = underFlowControl ? 'flowControl' : '';
  if (sd && typeof sd.pluginRef === 'string') {
    const p = plugins.get(sd.pluginRef);
    if (p instanceof UtilizationDetector) return { ...p.thresholds };
    // A concurrency detector gates flow control (src/flowcontrol); the legacy admission keeps the default thresholds.
    if (p?.type === CONCURRENCY_DETECTOR_TYPE || (!p && sd.pluginRef === CONCURRENCY_DETECTOR_TYPE)) return { ...DEFAULT_SATURATION_THRESHOLDS };
    if (!underFlowControl || !flowControlGateOn(spec.featureGates)) {
      issue([...at, 'pluginRef'], where, 'saturationDetector.pluginRef', `must name a ${UTILIZATION_DETECTOR_TYPE} or ${CONCURRENCY_DETECTOR_TYPE} plugin, got "${sd.pluginRef}"`);
    }
    return { ...DEFAULT_SATURATION_THRESHOLDS };
  }
  if (sd) {
    const r = new ParamReader({ at: 'saturationDetector', name: 'saturationDetector', type: 'saturationDetector' }, sd);
    try {
      const t = readSaturationThresholds(r);
      r.finish();
      return t;
    } catch (err) {
      if (!(err instanceof PluginConfigError)) throw err;
      const key = err.field.replace(/^parameters\./, '');
      issue([...at, key], where, `saturationDetector.${key}`, err.reason);
      return { ...DEFAULT_SATURATION_THRESHOLDS };
    }
  }
  const p = plugins.get(UTILIZATION_DETECTOR_TYPE);
  return p instanceof UtilizationDetector ? { ...p.thresholds } : { ...DEFAULT_SATURATION_THRESHOLDS };
}

/**
 * A prefix-cache-scorer's parameters with those of the approx-prefix-cache-producer it reads under its own: the one
 * its `prefixMatchInfoProducerName` names, else (llm-d's default key) the one named `approx-prefix-cache-producer`.
 * The scorer keeps the approximate index itself, so the reference is dropped rather than looked for as data.
 */
function withApproximateParams(params: Record<string, unknown>, approx: ReadonlyMap<string, ApproxPrefixCacheProducer>, read: Set<string>): Record<string, unknown> {
  const ref = params.prefixMatchInfoProducerName;
  const name = ref === undefined || ref === null || ref === '' ? APPROX_PREFIX_CACHE_PRODUCER_TYPE : ref;
  const producer = typeof name === 'string' ? approx.get(name) : undefined;
  if (!producer) return params;
  read.add(producer.name);
  const { prefixMatchInfoProducerName: _ref, ...own } = params;
  return { ...producer.parameters, ...own };
}

/**
 * A no-hit-lru-scorer naming an approx-prefix-cache-producer judges coldness by the prefix-cache-scorer's own view,
 * which is where that producer's index lives here: the reference is dropped rather than looked for as data.
 */
function withoutApproximateRef(params: Record<string, unknown>, approx: ReadonlyMap<string, ApproxPrefixCacheProducer>, read: Set<string>): Record<string, unknown> {
  const ref = params.prefixMatchInfoProducerName;
  if (typeof ref !== 'string' || !approx.has(ref)) return params;
  read.add(ref);
  const { prefixMatchInfoProducerName: _ref, ...rest } = params;
  return rest;
}

/** `parameters.matchExpressions[0].key` -> ['parameters', 'matchExpressions', 0, 'key']. */
function fieldPath(field: string): (string | number)[] {
  return field.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
