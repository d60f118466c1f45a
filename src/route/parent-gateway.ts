/** Which HTTPRoutes attach to this gateway when it is given a Gateway name. */
import type { HTTPRoute } from '../api/http-route.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/**
 * Why `route` does not attach to the Gateway named `gatewayName`, or undefined when it does (a parentRef
 * of kind Gateway, group gateway.networking.k8s.io, with that name). The parentRef's namespace is not
 * compared: infergate is given a Gateway name only. The reason reads after "route X ignored: ".
 */
export function gatewayMismatch(route: HTTPRoute, gatewayName: string): string | undefined {
  const gateways = route.parentRefs.filter((p) => p.kind === 'Gateway' && p.group === GATEWAY_GROUP);
  if (gateways.some((p) => p.name === gatewayName)) return undefined;
  if (gateways.length > 0) {
    const names = gateways.map((p) => p.name);
    return `its parentRefs name gateway${names.length === 1 ? '' : 's'} ${names.join(', ')}, not ${gatewayName}`;
  }
  if (route.parentRefs.length === 0) return `it has no parentRefs, so it attaches to no gateway (this one is ${gatewayName})`;
  const others = route.parentRefs.map((p) => (p.kind === 'Gateway' ? `Gateway ${p.name} in group ${p.group}` : `${p.kind} ${p.name}`));
  return `its parentRefs name no Gateway (${others.join(', ')}), not gateway ${gatewayName}`;
}
