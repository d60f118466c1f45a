/** An HTTPRoute as GIE's conformance suite writes them: PathPrefix rules to InferencePools, parented to a Gateway of its infra namespace. */

/** The suite's Gateways and their listener live here. */
export const CONFORMANCE_INFRA_NS = 'inference-conformance-infra';

export interface ConformanceRoute {
  name: string;
  /** Written into the route's metadata; the gateway's default namespace when unset. */
  namespace?: string;
  gateway: string;
  hostnames?: string[];
  /** The suite's parentRefs without group and sectionName (some of its manifests write them so). */
  bareParent?: boolean;
  rules: { path: string; refs: { pool: string; weight?: number; port?: number }[] }[];
}

export function conformanceRoute(r: ConformanceRoute): string {
  const parent = r.bareParent ? `{name: ${r.gateway}, namespace: ${CONFORMANCE_INFRA_NS}}` : `{group: gateway.networking.k8s.io, kind: Gateway, name: ${r.gateway}, namespace: ${CONFORMANCE_INFRA_NS}, sectionName: http}`;
  const hosts = r.hostnames ? `  hostnames: [${r.hostnames.map((h) => `"${h}"`).join(', ')}]\n` : '';
  const rules = r.rules
    .map((rule) => {
      const refs = rule.refs.map((b) => `        - {group: inference.networking.k8s.io, kind: InferencePool, name: ${b.pool}${b.weight !== undefined ? `, weight: ${b.weight}` : ''}${b.port !== undefined ? `, port: ${b.port}` : ''}}`).join('\n');
      return `    - matches: [{path: {type: PathPrefix, value: ${rule.path}}}]\n      backendRefs:\n${refs}`;
    })
    .join('\n');
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${r.name}${r.namespace !== undefined ? `, namespace: ${r.namespace}` : ''}}
spec:
  parentRefs: [${parent}]
${hosts}  rules:
${rules}
`;
}
