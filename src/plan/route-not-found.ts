/** The 404 route_not_found of a request no HTTPRoute rule matches, with the closest rules for the operator and without them for a tenant. */
import { GatewayError } from '../errors.js';

/**
 * `message` names the closest rules, whose header matches hold model names (every route's
 * `X-Gateway-Base-Model-Name`) and whose names are the operator's: what an operator needs to fix the routes. A
 * request with an API key gets `bare` instead, or any key could list the other tenants' models by asking for a path
 * no rule matches (`GET /`).
 */
export class RouteNotFound extends GatewayError {
  readonly bare: string;

  constructor(bare: string, closest: readonly string[]) {
    super('route_not_found', closest.length > 0 ? `${bare}. Closest rules: ${closest.join('; ')}` : bare);
    this.bare = bare;
  }

  /** The same 404 without the rules, for a key's holder. */
  forTenant(): GatewayError {
    return new GatewayError('route_not_found', `${this.bare} (GET /v1/models lists the models your API key may use)`);
  }
}
