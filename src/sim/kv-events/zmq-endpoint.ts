/** Where the simulator's ZMQ sockets go: vLLM's bind-or-connect rule, with `*` meaning the simulated pod's own address. */

/** vLLM's heuristic (ZmqEventPublisher._socket_setup): bind when the endpoint has `*` or `::`, or is ipc/inproc; otherwise connect. */
export function bindsEndpoint(endpoint: string): boolean {
  return endpoint.includes('*') || endpoint.includes('::') || endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://');
}

const WILDCARD_HOST = /^tcp:\/\/\*:/;

/**
 * The address to bind for `endpoint` on a simulator listening on `host`. A real pod binding `tcp://*:5557`
 * listens on every interface of its own network namespace; simulated pods share one machine and each has its
 * own loopback address, so `*` as the host becomes `host` (a fleet can then use port 5557 on every pod, as a
 * Deployment does). A host that is itself a wildcard keeps `*`. A port of `*` (`tcp://127.0.94.1:*`) is ZMQ's
 * own syntax for any free port. IPv6 hosts are bracketed; the socket must then have `ipv6` on.
 */
export function bindAddress(endpoint: string, host: string): string {
  if (!WILDCARD_HOST.test(endpoint) || host === '0.0.0.0' || host === '::' || host === '') return endpoint;
  const h = host.includes(':') ? `[${host}]` : host;
  return endpoint.replace(WILDCARD_HOST, `tcp://${h}:`);
}

/** Whether a tcp endpoint names an IPv6 address (ZMQ sockets need `ipv6: true` for it). */
export function isIpv6Endpoint(endpoint: string): boolean {
  return /^tcp:\/\/(\[|::)/.test(endpoint) || endpoint.includes('::');
}
