/** Renders the Kubernetes manifests infergate reads (Pod, InferencePool, HTTPRoute, allowlist ConfigMap) for tests and benchmarks. */

export function podYaml(name: string, ip: string, labels: Record<string, string>, opts: { ready?: boolean; namespace?: string } = {}): string {
  const l = Object.entries(labels)
    .map(([k, v]) => `    ${k}: "${v}"`)
    .join('\n');
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${opts.namespace ?? 'default'}
  labels:
${l}
status:
  podIP: ${ip}
  conditions: [{type: Ready, status: "${opts.ready === false ? 'False' : 'True'}"}]
`;
}

/** `appProtocol`: written as `spec.appProtocol` when given (`kubernetes.io/h2c` for an h2c pool). */
export function poolYaml(name: string, selector: Record<string, string>, port: number, namespace = 'default', appProtocol?: string): string {
  const s = Object.entries(selector)
    .map(([k, v]) => `      ${k}: "${v}"`)
    .join('\n');
  return `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  selector:
    matchLabels:
${s}
  targetPorts: [{number: ${port}}]
${appProtocol === undefined ? '' : `  appProtocol: ${appProtocol}\n`}`;
}

/**
 * An HTTPRoute sending one base model (by X-Gateway-Base-Model-Name) to weighted pools, on every path (`/`):
 * vLLM serves `/tokenize`, `/score`, `/rerank` and friends outside `/v1/`.
 */
export function baseModelRouteYaml(name: string, baseModel: string, pools: readonly [string, number][]): string {
  const refs = pools.map(([p, w]) => `        - {group: inference.networking.k8s.io, kind: InferencePool, name: ${p}, weight: ${w}}`).join('\n');
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
spec:
  rules:
    - matches:
        - path: {type: PathPrefix, value: /}
          headers: [{type: Exact, name: X-Gateway-Base-Model-Name, value: "${baseModel}"}]
      backendRefs:
${refs}
`;
}

/**
 * The benchmarks' smallest fleet: one Pod at `ip`, one InferencePool `name` over it on `port` (its `appProtocol`
 * when given), and the route of `baseModel` to it, as one multi-document YAML.
 */
export function onePodFleetYaml(name: string, ip: string, port: number, baseModel: string, appProtocol?: string): string {
  return [podYaml('pod-0', ip, { app: name }), poolYaml(name, { app: name }, port, 'default', appProtocol), baseModelRouteYaml(name, baseModel, [[name, 1]])].join('---\n');
}

/** An HTTPRoute sending everything under a path prefix to one pool, with no model matching (a "unified" pool). */
export function prefixRouteYaml(name: string, prefix: string, pool: string, namespace = 'default'): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: ${prefix}}}]
      backendRefs:
        - {group: inference.networking.k8s.io, kind: InferencePool, name: ${pool}}
`;
}

/** A BBR allowlist ConfigMap (label inference.networking.k8s.io/bbr-managed: "true"). */
export function allowlistYaml(name: string, baseModel: string, adapters: readonly string[], namespace = 'default'): string {
  const list = adapters.length > 0 ? `  adapters: |\n${adapters.map((a) => `    - ${a}`).join('\n')}\n` : '';
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${namespace}
  labels: {inference.networking.k8s.io/bbr-managed: "true"}
data:
  baseModel: ${baseModel}
${list}`;
}

/** A ConfigMap holding an EndpointPickerConfig under `config.yaml`, for a pool's infergate.io/endpoint-picker-config annotation. */
export function eppConfigMapYaml(name: string, configYaml: string, namespace = 'default'): string {
  return `apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: ${namespace}}
data:
  config.yaml: |
${configYaml.trimEnd().replace(/^/gm, '    ')}
`;
}
