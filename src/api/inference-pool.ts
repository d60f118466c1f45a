/** InferencePool (inference.networking.k8s.io/v1): a set of model-server pods and the ports they listen on. */
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';
import { groupProblem, kindProblem, labelValueProblem } from './gie-formats.js';

export const INFERENCE_POOL_GROUP = 'inference.networking.k8s.io';

export interface EndpointPickerRef {
  group?: string;
  kind: string;
  name: string;
  port?: number;
  failureMode: 'FailOpen' | 'FailClose';
}

export interface InferencePool extends Located {
  kind: 'InferencePool';
  /** Pods in the pool's namespace whose labels include all of these. */
  selector: Readonly<Record<string, string>>;
  /** Each ready pod x each port is one endpoint (data-parallel ranks). */
  targetPorts: readonly number[];
  appProtocol: 'http' | 'kubernetes.io/h2c';
  /**
   * Accepted as written in users' YAML (required up to GIE v1.5); infergate's own picker serves the pool
   * whatever it names, so one process serves every pool.
   */
  endpointPickerRef?: EndpointPickerRef;
}

/** v1alpha2 fields a v1 pool may still carry, with their v1 names. */
const V1ALPHA2_FIELDS: Readonly<Record<string, string>> = {
  targetPortNumber: 'it is v1alpha2\'s; v1 has targetPorts: [{number: N}]',
  extensionRef: 'it is v1alpha2\'s; v1 has endpointPickerRef',
};

/** v1alpha2's `extensionRef.portNumber`, kept when the ref is renamed to endpointPickerRef. */
const V1ALPHA2_REF_FIELDS: Readonly<Record<string, string>> = { portNumber: 'it is v1alpha2\'s extensionRef field; v1 has port: {number: N}' };

/**
 * v1alpha2's selector is the label map itself (`selector: {app: vllm}`); v1's is a LabelSelector
 * (`selector: {matchLabels: {app: vllm}}`). A pool whose apiVersion alone was bumped has its labels read as unknown fields.
 */
const V1ALPHA2_SELECTOR = 'v1alpha2 put the labels directly under spec.selector; v1 puts them under spec.selector.matchLabels';

/**
 * What an InferencePool of GIE's old apiVersion needs to become v1, for the error refusing that apiVersion
 * (GIE api/v1alpha2 and api/v1 inferencepool_types.go).
 */
export const V1ALPHA2_POOL_MIGRATION =
  'v1 renames three fields: spec.selector\'s labels go under spec.selector.matchLabels, spec.targetPortNumber: N becomes spec.targetPorts: [{number: N}], ' +
  'and spec.extensionRef becomes spec.endpointPickerRef (its portNumber: N becomes port: {number: N})';

export function readInferencePool(r: FieldReader, raw: Record<string, Raw>, base: Located): InferencePool {
  const spec = r.object(raw.spec, 'spec', true) ?? {};
  r.unknownKeys(spec, 'spec', ['selector', 'targetPorts', 'appProtocol', 'endpointPickerRef'], undefined, V1ALPHA2_FIELDS);
  const sel = r.object(spec.selector, 'spec.selector', true) ?? {};
  const flatLabels = Object.keys(sel).filter((k) => k !== 'matchLabels' && k !== 'matchExpressions' && typeof sel[k] === 'string');
  r.unknownKeys(sel, 'spec.selector', ['matchLabels', 'matchExpressions'], undefined, Object.fromEntries(flatLabels.map((k) => [k, V1ALPHA2_SELECTOR])));
  if (sel.matchExpressions !== undefined) r.fail('spec.selector.matchExpressions', 'is not supported by InferencePool v1; use matchLabels');
  const selector = r.stringMap(sel.matchLabels, 'spec.selector.matchLabels');
  // GIE's CRD refuses these (LabelValue, maxProperties: 64); a file pool must not pass what kubectl apply refuses.
  for (const [k, v] of Object.entries(selector)) {
    const problem = labelValueProblem(v);
    if (problem) r.fail(`spec.selector.matchLabels.${k}`, `${problem} (the API server refuses the pool, and no Pod can carry such a label)`);
  }
  if (Object.keys(selector).length > 64) r.fail('spec.selector.matchLabels', `has ${Object.keys(selector).length} labels; at most 64 are allowed`);
  if (spec.selector !== undefined && Object.keys(selector).length === 0) {
    const v1alpha2 = flatLabels.length > 0 ? ` (${V1ALPHA2_SELECTOR}: {${flatLabels.map((k) => `${k}: ${String(sel[k])}`).join(', ')}})` : '';
    r.fail('spec.selector.matchLabels', `must name at least one label (an empty selector would select every pod)${v1alpha2}`);
  }
  if (spec.targetPorts === undefined && spec.targetPortNumber !== undefined) {
    r.fail('spec.targetPorts', `is required (v1alpha2's targetPortNumber: ${String(spec.targetPortNumber)} is targetPorts: [{number: ${String(spec.targetPortNumber)}}] in v1)`);
  }
  const ports = r.array(spec.targetPorts, 'spec.targetPorts', spec.targetPortNumber === undefined);
  if (ports.length > 8) r.fail('spec.targetPorts', `has ${ports.length} entries; at most 8 are allowed`);
  const targetPorts: number[] = [];
  ports.forEach((p, i) => {
    const o = r.object(p, `spec.targetPorts[${i}]`, true);
    r.unknownKeys(o, `spec.targetPorts[${i}]`, ['number']);
    const n = o ? r.integer(o.number, `spec.targetPorts[${i}].number`, 1, 65535, true) : undefined;
    if (n !== undefined) {
      if (targetPorts.includes(n)) r.fail(`spec.targetPorts[${i}].number`, `port ${n} is listed twice`);
      else targetPorts.push(n);
    }
  });
  if (spec.targetPorts !== undefined && ports.length === 0) r.fail('spec.targetPorts', 'must list at least one port');
  const appProtocol = r.oneOf(spec.appProtocol, 'spec.appProtocol', ['http', 'kubernetes.io/h2c'] as const, 'http');
  const pool: InferencePool = { ...base, kind: 'InferencePool', selector, targetPorts, appProtocol };
  const epr = r.object(spec.endpointPickerRef, 'spec.endpointPickerRef');
  if (epr) {
    r.unknownKeys(epr, 'spec.endpointPickerRef', ['group', 'kind', 'name', 'port', 'failureMode'], undefined, V1ALPHA2_REF_FIELDS);
    const name = r.string(epr.name, 'spec.endpointPickerRef.name', true) ?? '';
    const portObj = r.object(epr.port, 'spec.endpointPickerRef.port');
    r.unknownKeys(portObj, 'spec.endpointPickerRef.port', ['number']);
    const ref: EndpointPickerRef = {
      kind: r.string(epr.kind, 'spec.endpointPickerRef.kind') ?? 'Service',
      name,
      failureMode: r.oneOf(epr.failureMode, 'spec.endpointPickerRef.failureMode', ['FailOpen', 'FailClose'] as const, 'FailClose'),
    };
    const group = r.string(epr.group, 'spec.endpointPickerRef.group');
    if (group !== undefined) ref.group = group;
    const port = portObj ? r.integer(portObj.number, 'spec.endpointPickerRef.port.number', 1, 65535, true) : undefined;
    if (port !== undefined) ref.port = port;
    // GIE's CRD refuses these (Kind, Group, ObjectName and the ref's CEL rule); a file pool must not pass what kubectl apply refuses.
    const kindIssue = typeof epr.kind === 'string' ? kindProblem(epr.kind) : undefined;
    if (kindIssue) r.fail('spec.endpointPickerRef.kind', kindIssue);
    const groupIssue = group !== undefined ? groupProblem(group) : undefined;
    if (groupIssue) r.fail('spec.endpointPickerRef.group', groupIssue);
    if (name.length > 253) r.fail('spec.endpointPickerRef.name', `is ${name.length} characters long; at most 253 are allowed`);
    if (ref.kind === 'Service' && portObj === undefined) {
      const v1alpha2 = epr.portNumber !== undefined ? ` (v1alpha2's portNumber: ${String(epr.portNumber)} is port: {number: ${String(epr.portNumber)}} in v1)` : '';
      r.fail('spec.endpointPickerRef.port', `is required when kind is Service (the default), as GIE's CRD requires it: the picker Service's port, not its targetPort, such as port: {number: 9002}${v1alpha2}`);
    }
    pool.endpointPickerRef = ref;
  }
  return pool;
}
