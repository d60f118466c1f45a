/**
 * Who picks the endpoints of an InferencePool, from its `spec.endpointPickerRef`: infergate itself, nobody
 * (the ref names a Service that does not exist: the pool answers 500 and reports InvalidExtensionRef), or an
 * external endpoint picker. The one place this is decided; docs/kubernetes.md#endpointpickerref.
 */
import type { InferencePool } from '../api/inference-pool.js';
import type { ServiceFacts } from '../api/service.js';
import { GatewayError } from '../errors.js';
import { pickerAddress, type PickerAddress } from './external/picker-address.js';

export type PickerRef =
  /** infergate's own scheduler picks (today's behaviour for every pool). */
  | { picker: 'self'; reason: string }
  /** The ref cannot be resolved: requests get 500 `invalid_endpoint_picker_ref`. */
  | { picker: 'missing'; reason: string }
  /**
   * Another Service that exists (Kubernetes) or is not `--epp-service-name` (files): infergate asks it over
   * ext_proc at `address` for each request (src/proxy/external-pick-stage.ts).
   */
  | { picker: 'external'; service: string; port?: number; address: PickerAddress; reason: string };

export type ExternalPickerRef = Extract<PickerRef, { picker: 'external' }>;

export interface PickerRefContext {
  /** `--epp-service-name`: the Service that fronts this infergate. Unset: every ref is taken to name infergate. */
  eppServiceName?: string;
  /**
   * The Services refs name (`namespace/name` -> facts, or null when listed and absent); undefined when they
   * cannot be known (files). A name left out could not be read (RBAC): the ref is not judged on it.
   */
  services?: ReadonlyMap<string, ServiceFacts | null>;
  /** Services declared in the configuration files: only where an external picker is reached, never whether a ref resolves. */
  declaredServices?: ReadonlyMap<string, ServiceFacts>;
}

/**
 * Decides who picks for `pool`:
 * - no ref, or a ref to `--epp-service-name`: infergate;
 * - files (no Service facts): without `--epp-service-name` any ref is infergate (as before this existed);
 *   with it, a ref to another name is external;
 * - Kubernetes: a ref that is not a core Service, to a Service that does not exist, or to an ExternalName
 *   Service is missing; an existing Service is infergate without `--epp-service-name`, external with it.
 */
export function resolvePickerRef(pool: InferencePool, ctx: PickerRefContext): PickerRef {
  const ref = pool.endpointPickerRef;
  if (!ref) return { picker: 'self', reason: 'the pool has no spec.endpointPickerRef, so infergate picks its endpoints' };
  const key = `${pool.meta.namespace}/${ref.name}`;
  const isService = ref.kind === 'Service' && (ref.group ?? '') === '';
  const what = isService ? `Service ${key}` : `${ref.kind}${ref.group ? `.${ref.group}` : ''} ${key}`;
  const flag = ctx.eppServiceName;
  if (isService && flag !== undefined && ref.name === flag) return { picker: 'self', reason: `spec.endpointPickerRef names ${what}, infergate's own (--epp-service-name)` };
  const external = (reason: string): PickerRef => {
    const address = pickerAddress(pool.meta.namespace, ref.name, ref.port, ctx.services?.get(key) ?? ctx.declaredServices?.get(key));
    return { picker: 'external', service: key, ...(ref.port !== undefined ? { port: ref.port } : {}), address, reason };
  };
  const notInfergate = `spec.endpointPickerRef names ${what}, not infergate's own Service ${flag ?? ''} (--epp-service-name)`;
  if (ctx.services === undefined) {
    if (flag === undefined) return { picker: 'self', reason: `spec.endpointPickerRef names ${what}; without --epp-service-name infergate takes every ref to name itself` };
    return external(notInfergate);
  }
  if (!isService) return { picker: 'missing', reason: `spec.endpointPickerRef names ${what}; only a core Service (kind Service, group "") can be an endpoint picker` };
  const svc = ctx.services.get(key);
  if (svc === null) return { picker: 'missing', reason: `spec.endpointPickerRef names ${what}, which does not exist` };
  if (svc?.type === 'ExternalName') return { picker: 'missing', reason: `spec.endpointPickerRef names ${what}, an ExternalName Service; GIE forbids those as endpoint pickers` };
  if (flag !== undefined) return external(notInfergate);
  if (svc === undefined) return { picker: 'self', reason: `spec.endpointPickerRef names ${what}, which infergate cannot read (grant get, list and watch on services); infergate picks` };
  return { picker: 'self', reason: `spec.endpointPickerRef names ${what}; without --epp-service-name infergate takes every existing Service to be itself` };
}

/** The 500 a request to a pool whose ref is missing gets (as Gateway API answers an unresolvable backend). */
export function missingPickerError(poolKey: string, ref: Extract<PickerRef, { picker: 'missing' }>): GatewayError {
  return new GatewayError(
    'invalid_endpoint_picker_ref',
    `InferencePool ${poolKey} has no endpoint picker: ${ref.reason}. Create that Service, or point spec.endpointPickerRef at infergate's own Service (serve --epp-service-name); the pool's status reports ResolvedRefs False (InvalidExtensionRef) until then`,
  );
}
