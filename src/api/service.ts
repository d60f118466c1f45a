/** What infergate reads of a core/v1 Service: the target of an InferencePool's `endpointPickerRef`. */

export interface ServiceFacts {
  /** `spec.type`: ClusterIP (the default), NodePort, LoadBalancer or ExternalName. */
  type: string;
  /** `spec.ports[].port`, the Service's own port numbers (an endpointPickerRef names one of these). */
  ports: readonly number[];
}

/**
 * Reads a Service as the API server returns it. Lenient on purpose: the API server has validated it, and a
 * field infergate does not understand must not make an existing Service look missing.
 */
export function readServiceFacts(obj: object): ServiceFacts {
  const raw = (obj as { spec?: unknown }).spec;
  const spec = raw !== null && typeof raw === 'object' ? (raw as { type?: unknown; ports?: unknown }) : {};
  const ports = Array.isArray(spec.ports) ? spec.ports.map((p) => (p as { port?: unknown } | null)?.port).filter((p): p is number => typeof p === 'number') : [];
  return { type: typeof spec.type === 'string' ? spec.type : 'ClusterIP', ports };
}
