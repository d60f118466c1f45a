/**
 * `destination-endpoint-served-verifier` (GIE's conformance EPP, v1.5): writes the endpoint that served a request
 * into the `x-conformance-test-served-endpoint` response header, which GIE's conformance suite reads.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { ResponseHeaders, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

export const DESTINATION_ENDPOINT_SERVED_VERIFIER_TYPE = 'destination-endpoint-served-verifier';

/** The header GIE's suite checks (conformance/utils/headers: ConformanceTestResultHeader). */
export const CONFORMANCE_TEST_RESULT_HEADER = 'x-conformance-test-served-endpoint';

/**
 * GIE's plugin reads the served endpoint from Envoy's `envoy.lb` metadata, which a Gateway fills with
 * `x-gateway-destination-endpoint-served`; infergate is that Gateway, so `served` (the endpoint that answered,
 * after any failover) is the same fact at first hand. Off unless an EndpointPickerConfig names it.
 */
export class DestinationEndpointServedVerifier implements ResponseHeaders {
  readonly type = DESTINATION_ENDPOINT_SERVED_VERIFIER_TYPE;
  readonly name: string;

  constructor(name: string = DESTINATION_ENDPOINT_SERVED_VERIFIER_TYPE) {
    this.name = name;
  }

  responseHeaders(_ctx: SchedulingContext, served: Endpoint, set: (name: string, value: string) => void): void {
    set(CONFORMANCE_TEST_RESULT_HEADER, served.address);
  }
}

/** No parameters, as GIE's. */
export const destinationEndpointServedVerifierFactory: PluginFactory = (name) => new DestinationEndpointServedVerifier(name);
