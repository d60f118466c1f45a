/**
 * llm-d's EndpointPickerConfig as YAML text -> a checked spec. Structure only; plugin parameters,
 * references and weight ranges are checked when the spec is built (build-scheduler-config.ts).
 */
import { LineCounter, isMap, isScalar, parseAllDocuments, type Document } from 'yaml';
import { closest, describeValue, formatSite } from '../framework/param-reader.js';
import { eppIssue, issueReporter, type EppConfigIssue, type ReportIssue, type YamlPath } from './epp-config-error.js';

/** The current group first; the older GIE group still loads (both are `v1alpha1`). */
export const EPP_CONFIG_API_VERSIONS = ['llm-d.ai/v1alpha1', 'inference.networking.x-k8s.io/v1alpha1'] as const;
export const EPP_CONFIG_KIND = 'EndpointPickerConfig';

export interface PluginSpec {
  /** Defaults to the type. Unique. */
  name: string;
  type: string;
  parameters: Record<string, unknown>;
  /** `plugins[2]`, for messages. */
  at: string;
}

export interface ProfilePluginSpec {
  pluginRef: string;
  /** Only meaningful for scorers; default 1. A negative one is refused when the spec is built, with the other problems. */
  weight?: number;
  at: string;
}

export interface SchedulingProfileSpec {
  name: string;
  plugins: ProfilePluginSpec[];
  at: string;
}

export interface EndpointPickerConfigSpec {
  apiVersion: string;
  kind: typeof EPP_CONFIG_KIND;
  plugins: PluginSpec[];
  schedulingProfiles: SchedulingProfileSpec[];
  /**
   * GIE's saturation thresholds block, or llm-d's `{pluginRef}` naming a `utilization-detector` (top level, or
   * under `flowControl` in current llm-d).
   */
  saturationDetector?: Record<string, unknown>;
  /** llm-d's `featureGates`, the gates turned on (`gate` or `gate=true`): `flowControl` turns flow control on (src/flowcontrol). */
  featureGates?: string[];
  /** llm-d's `flowControl` block, checked when the spec is built (src/flowcontrol/flow-control-config.ts). */
  flowControl?: Record<string, unknown>;
}

/** Fields llm-d defines that infergate reads. */
const READ_FIELDS = ['apiVersion', 'kind', 'plugins', 'schedulingProfiles', 'saturationDetector', 'featureGates', 'flowControl'];
/**
 * Fields llm-d defines that infergate accepts and ignores, with a warning: its metrics scraping, flow control
 * and parsers are built in and configured elsewhere. Anything else is an error, as llm-d decodes strictly.
 */
const IGNORED_FIELDS = ['data', 'dataLayer', 'parser', 'requestHandler', 'requestControl'];
/** Feature gates infergate acts on; llm-d's others are accepted with a warning. */
const KNOWN_GATES = ['flowControl'];

export interface ParsedConfig {
  spec: EndpointPickerConfigSpec;
  issues: EppConfigIssue[];
  warnings: string[];
  /** Line of a YAML path (`['plugins', 2, 'parameters']`), for issues found later. */
  lineOf(path: YamlPath): number | undefined;
}

/** Parses and checks the structure, collecting every issue rather than stopping at the first. */
export function parseEndpointPickerConfig(text: string, file: string): ParsedConfig {
  const issues: EppConfigIssue[] = [];
  const warnings: string[] = [];
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  const spec: EndpointPickerConfigSpec = { apiVersion: '', kind: EPP_CONFIG_KIND, plugins: [], schedulingProfiles: [] };
  const docList = Array.isArray(docs) ? docs : [];
  const doc: Document | undefined = docList[0];
  // The line of a mapping entry is its key's (a block value starts on the next line); of a list item, the item's.
  const lineOf = (path: YamlPath): number | undefined => {
    for (let p = path; p.length > 0; p = p.slice(0, -1)) {
      const last = p[p.length - 1];
      const parent: unknown = p.length === 1 ? doc?.contents : doc?.getIn(p.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((i) => isScalar(i.key) && i.key.value === last);
        const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (range) return lines.linePos(range[0]).line;
      }
      const node = doc?.getIn(p, true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const issue = issueReporter(file, lineOf, issues);

  if (!doc) {
    issue([], '', '', 'is empty; expected an EndpointPickerConfig document');
    return { spec, issues, warnings, lineOf };
  }
  if (docList.length > 1) issue([], '', '', `holds ${docList.length} YAML documents; expected one EndpointPickerConfig`);
  for (const e of doc.errors) issues.push(eppIssue(file, e.linePos?.[0]?.line, '', '', `YAML: ${yamlMessage(e.message)}`));
  if (doc.errors.length > 0) return { spec, issues, warnings, lineOf };

  const root = doc.toJS() as unknown;
  if (!isMapping(root)) {
    issue([], '', '', `must be a mapping with apiVersion, kind, plugins and schedulingProfiles, got ${describeValue(root)}`);
    return { spec, issues, warnings, lineOf };
  }

  const apiVersion = root.apiVersion;
  if (typeof apiVersion !== 'string' || !(EPP_CONFIG_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    issue(['apiVersion'], '', 'apiVersion', `must be one of ${EPP_CONFIG_API_VERSIONS.join(', ')}, got ${describeValue(apiVersion)}`);
  } else spec.apiVersion = apiVersion;
  if (root.kind !== EPP_CONFIG_KIND) issue(['kind'], '', 'kind', `must be ${EPP_CONFIG_KIND}, got ${describeValue(root.kind)}`);

  for (const key of Object.keys(root)) {
    if (READ_FIELDS.includes(key)) continue;
    if (IGNORED_FIELDS.includes(key)) warnings.push(`${file}: ${key} is not used by infergate and is ignored`);
    else issue([key], '', key, `unknown field; known fields: ${[...READ_FIELDS, ...IGNORED_FIELDS].join(', ')}`);
  }

  const names = new Map<string, string>();
  forEachItem(root.plugins, ['plugins'], '', 'plugins', issue, (raw, i) => {
    const at = `plugins[${i}]`;
    const path = ['plugins', i];
    if (!isMapping(raw)) return issue(path, at, '', `must be a mapping {name?, type, parameters?}, got ${describeValue(raw)}`);
    const type = raw.type;
    const name = raw.name ?? type;
    const where = typeof type === 'string' && typeof name === 'string' ? formatSite({ at, name, type }) : at;
    unknownFields(raw, ['name', 'type', 'parameters'], (k) => issue([...path, k], where, k, 'unknown field; known fields: name, type, parameters'));
    if (typeof type !== 'string' || type === '') return issue([...path, 'type'], where, 'type', `is required: the plugin type, such as queue-scorer${type === undefined ? '' : `; got ${describeValue(type)}`}`);
    if (typeof name !== 'string' || name === '') return issue([...path, 'name'], where, 'name', `must be a non-empty string, got ${describeValue(raw.name)}`);
    const params = raw.parameters ?? {};
    if (!isMapping(params)) return issue([...path, 'parameters'], where, 'parameters', `must be a mapping, got ${describeValue(params)}`);
    const first = names.get(name);
    if (first !== undefined) return issue([...path, raw.name === undefined ? 'type' : 'name'], where, 'name', `duplicates the name of ${first}; names must be unique (a plugin without name is named by its type)`);
    names.set(name, at);
    spec.plugins.push({ name, type, parameters: params, at });
  });

  const profileNames = new Set<string>();
  forEachItem(root.schedulingProfiles, ['schedulingProfiles'], '', 'schedulingProfiles', issue, (raw, i) => {
    const at = `schedulingProfiles[${i}]`;
    const path = ['schedulingProfiles', i];
    if (!isMapping(raw)) return issue(path, at, '', `must be a mapping {name, plugins}, got ${describeValue(raw)}`);
    const name = raw.name;
    const where = typeof name === 'string' ? `${at} (${name})` : at;
    unknownFields(raw, ['name', 'plugins'], (k) => issue([...path, k], where, k, 'unknown field; known fields: name, plugins'));
    if (typeof name !== 'string' || name === '') return issue([...path, 'name'], where, 'name', `is required${name === undefined ? '' : `, got ${describeValue(name)}`}`);
    if (profileNames.has(name)) return issue([...path, 'name'], where, 'name', 'duplicates another profile name');
    profileNames.add(name);
    const profile: SchedulingProfileSpec = { name, plugins: [], at: where };
    if (raw.plugins === undefined || raw.plugins === null) issue([...path], where, 'plugins', 'is required: the filters, scorers and picker of this profile');
    forEachItem(raw.plugins, [...path, 'plugins'], where, 'plugins', issue, (ref, j) => {
      const field = `plugins[${j}]`;
      const refPath = [...path, 'plugins', j];
      if (!isMapping(ref)) return issue(refPath, where, field, `must be a mapping {pluginRef, weight?}, got ${describeValue(ref)}`);
      unknownFields(ref, ['pluginRef', 'weight'], (k) => issue([...refPath, k], where, `${field}.${k}`, 'unknown field; known fields: pluginRef, weight'));
      if (typeof ref.pluginRef !== 'string' || ref.pluginRef === '') return issue([...refPath, 'pluginRef'], where, `${field}.pluginRef`, `is required: the name of a plugin${ref.pluginRef === undefined ? '' : `; got ${describeValue(ref.pluginRef)}`}`);
      const entry: ProfilePluginSpec = { pluginRef: ref.pluginRef, at: field };
      if (ref.weight !== undefined && ref.weight !== null) {
        if (typeof ref.weight !== 'number' || !Number.isFinite(ref.weight)) return issue([...refPath, 'weight'], where, `${field}.weight`, `must be a number, got ${describeValue(ref.weight)}`);
        entry.weight = ref.weight;
      }
      profile.plugins.push(entry);
    });
    spec.schedulingProfiles.push(profile);
  });

  if (root.featureGates !== undefined && root.featureGates !== null) {
    if (!Array.isArray(root.featureGates) || root.featureGates.some((g) => typeof g !== 'string')) {
      issue(['featureGates'], '', 'featureGates', `must be a list of gate names such as [flowControl], got ${describeValue(root.featureGates)}`);
    } else {
      // As llm-d (PR #1728): `gate` or `gate=<bool>`; the spec keeps the names of the gates turned on.
      spec.featureGates = [];
      (root.featureGates as string[]).forEach((entry, i) => {
        const [gate = '', ...rest] = entry.split('=');
        const value = rest.length > 0 ? parseGoBool(rest.join('=')) : true;
        if (value === undefined) return issue(['featureGates', i], '', `featureGates[${i}]`, `${describeValue(rest.join('='))} is not a valid value for the feature gate ${gate}: use true or false (${gate}=true), or the name alone`);
        if (KNOWN_GATES.includes(gate)) {
          if (value) spec.featureGates?.push(gate);
          return;
        }
        // A misspelt gate would leave its feature off with no more than a warning; llm-d refuses any unknown gate.
        const near = closest(gate, KNOWN_GATES);
        if (near !== undefined) return issue(['featureGates', i], '', `featureGates[${i}]`, `unknown feature gate ${describeValue(gate)} (did you mean ${near}?); llm-d refuses unknown gates too`);
        warnings.push(`${file}: featureGates: ${gate} is not used by infergate and is ignored`);
      });
    }
  }
  if (root.flowControl !== undefined && root.flowControl !== null) {
    if (!isMapping(root.flowControl)) issue(['flowControl'], '', 'flowControl', `must be a mapping, got ${describeValue(root.flowControl)}`);
    else {
      spec.flowControl = root.flowControl;
      // As llm-d: without the gate only the saturation detector (which the legacy admission uses) is read.
      if (!spec.featureGates?.includes('flowControl') && Object.keys(root.flowControl).some((k) => k !== 'saturationDetector')) {
        warnings.push(`${file}: flowControl is ignored except saturationDetector: add featureGates: [flowControl] to turn flow control on`);
      }
    }
  }
  if (root.saturationDetector !== undefined && root.saturationDetector !== null && !isMapping(root.saturationDetector)) {
    issue(['saturationDetector'], '', 'saturationDetector', `must be a mapping, got ${describeValue(root.saturationDetector)}`);
  }
  // Current llm-d moved the detector reference under flowControl; with both, that one is used, as there.
  if (isMapping(root.flowControl) && isMapping(root.flowControl.saturationDetector)) spec.saturationDetector = root.flowControl.saturationDetector;
  else if (isMapping(root.saturationDetector)) spec.saturationDetector = root.saturationDetector;
  return { spec, issues, warnings, lineOf };
}

/** Go's strconv.ParseBool after llm-d's trim and lower-casing: true, t, 1, false, f, 0; else undefined. */
function parseGoBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === 't' || s === '1') return true;
  if (s === 'false' || s === 'f' || s === '0') return false;
  return undefined;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownFields(raw: Record<string, unknown>, known: readonly string[], report: (key: string) => void): void {
  for (const k of Object.keys(raw)) if (!known.includes(k)) report(k);
}

/** Calls `each` for every item of an optional list; reports a non-list. */
function forEachItem(v: unknown, path: YamlPath, where: string, field: string, issue: ReportIssue, each: (item: unknown, i: number) => void): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) {
    issue(path, where, field, `must be a list, got ${describeValue(v)}`);
    return;
  }
  v.forEach(each);
}

/** The yaml library's message without the code frame after its first line, nor the ':' that introduced it. */
function yamlMessage(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/:$/, '');
}
