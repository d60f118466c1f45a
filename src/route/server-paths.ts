/**
 * vLLM's endpoints about one model server rather than a model: its liveness, version, load and metrics. They name
 * no model, so body-based routing cannot pick a pool for them, and the usual routes (a header match on the base
 * model) leave them unrouted. A client that asks the gateway for one gets a 404 that says so and names the
 * gateway's own, instead of one that explains header matches.
 */
export const SERVER_PATHS: ReadonlySet<string> = new Set(['/health', '/ping', '/version', '/load', '/metrics']);

/** The 404's explanation for a server path no rule takes. */
export function serverPathMessage(method: string, path: string): string {
  return (
    `${method} ${path} is a model server's own endpoint, about one pod, and no HTTPRoute rule routes it: it names no model ` +
    'to pick a pool by. The gateway answers its own: GET /healthz (liveness), GET /readyz (readiness) and GET /metrics on its ' +
    "admin port (--admin-port). For a pod's, call the pod, or add an HTTPRoute rule matching this path"
  );
}
