/** What infergate reads of a core/v1 Service: the target of an InferencePool's `endpointPickerRef`. */
import type { Located } from './object-meta.js';

export interface ServiceFacts {
  /** `spec.type`: ClusterIP (the default), NodePort, LoadBalancer or ExternalName. */
  type: string;
  /** `spec.ports[].port`, the Service's own port numbers (an endpointPickerRef names one of these). */
  ports: readonly number[];
  /** `spec.clusterIP`: where an external endpoint picker behind this Service is reached; `None` for a headless Service. */
  clusterIP?: string;
}

/**
 * A Service declared in the configuration files (`serve -f`): the address of an external endpoint picker a
 * pool's ref names (src/epp/external/picker-address.ts). Read as leniently as from the API server.
 */
export interface Service extends Located, ServiceFacts {
  kind: 'Service';
}

/**
 * Reads a Service as the API server returns it. Lenient on purpose: the API server has validated it, and a
 * field infergate does not understand must not make an existing Service look missing.
 */
export function readServiceFacts(obj: object): ServiceFacts {
  const raw = (obj as { spec?: unknown }).spec;
  const spec = raw !== null && typeof raw === 'object' ? (raw as { type?: unknown; ports?: unknown; clusterIP?: unknown }) : {};
  const ports = Array.isArray(spec.ports) ? spec.ports.map((p) => (p as { port?: unknown } | null)?.port).filter((p): p is number => typeof p === 'number') : [];
  const facts: ServiceFacts = { type: typeof spec.type === 'string' ? spec.type : 'ClusterIP', ports };
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '') facts.clusterIP = spec.clusterIP;
  return facts;
}

/** A Service document of the configuration files; never an issue: a Service infergate only reads an address from must not reject a reload. */
export function readService(obj: object, base: Located): Service {
  return { ...base, kind: 'Service', ...readServiceFacts(obj) };
}
