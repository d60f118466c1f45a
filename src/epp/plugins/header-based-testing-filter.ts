/** `header-based-testing-filter` (GIE's conformance EPP): keeps only the endpoints the `test-epp-endpoint-selection` header names. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

export const HEADER_BASED_TESTING_FILTER_TYPE = 'header-based-testing-filter';

/** The request header GIE's conformance suite pins a request with: `10.0.0.7,10.0.0.8:3002,[fd00::1]:3000`. */
export const TEST_EPP_ENDPOINT_SELECTION_HEADER = 'test-epp-endpoint-selection';

/** What the header names: bare IPs (every port of that IP) and exact `ip port` pairs. */
export interface EndpointSelection {
  ips: ReadonlySet<string>;
  /** `${ip} ${port}`: a space cannot occur in either, so the key is unambiguous for IPv6 too. */
  addresses: ReadonlySet<string>;
}

/**
 * Parses the header as GIE does: comma-separated entries, blanks skipped, each `ip`, `ip:port`, `[v6]`,
 * `[v6]:port` or a bare IPv6 address (more than one colon and no brackets: no port).
 */
export function parseEndpointSelection(value: string): EndpointSelection {
  const ips = new Set<string>();
  const addresses = new Set<string>();
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    let host = item;
    let port: string | undefined;
    if (item.startsWith('[')) {
      const close = item.indexOf(']');
      host = item.slice(1, close < 0 ? undefined : close);
      if (close >= 0 && item[close + 1] === ':') port = item.slice(close + 2);
    } else {
      const colon = item.indexOf(':');
      if (colon >= 0 && colon === item.lastIndexOf(':')) {
        host = item.slice(0, colon);
        port = item.slice(colon + 1);
      }
    }
    if (port === undefined || port === '') ips.add(host);
    else addresses.add(`${host} ${port}`);
  }
  return { ips, addresses };
}

/**
 * Keeps the endpoints the header names, in input order (the Filter contract). Like GIE's filter, a request
 * without the header, or whose header names no candidate, keeps nothing: the request is refused (GIE answers
 * 429, infergate 503 `no_healthy_endpoint`, and `whyEmpty` says which case it was). Except a request without
 * a body model (a GET) and without the header: GIE's EPP never schedules body-less requests (it sends them to
 * a random endpoint), and the suite's GET cases expect 200, so it keeps every candidate. One deliberate
 * difference, after GIE's own description of the header: a bare IP keeps every endpoint (data-parallel rank)
 * of that IP, and `ip:a,ip:b` keeps both; GIE's code keeps one endpoint per IP. The conformance cases hold
 * either way.
 */
export class HeaderBasedTestingFilter implements Filter {
  readonly type = HEADER_BASED_TESTING_FILTER_TYPE;
  readonly name: string;

  constructor(name: string = HEADER_BASED_TESTING_FILTER_TYPE) {
    this.name = name;
  }

  filter(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const value = ctx.request.header(TEST_EPP_ENDPOINT_SELECTION_HEADER);
    if (value === undefined || value.trim() === '') return ctx.request.model === undefined ? endpoints : [];
    const { ips, addresses } = parseEndpointSelection(value);
    return endpoints.filter((ep) => ips.has(ep.ip) || addresses.has(`${ep.ip} ${ep.port}`));
  }

  /** For the 503's message: the header was missing, or named no candidate. */
  whyEmpty(ctx: SchedulingContext): string {
    const value = ctx.request.header(TEST_EPP_ENDPOINT_SELECTION_HEADER);
    if (value === undefined || value.trim() === '') {
      return `the request has no ${TEST_EPP_ENDPOINT_SELECTION_HEADER} header, and this test filter keeps only the endpoints that header names; send ${TEST_EPP_ENDPOINT_SELECTION_HEADER}: <ip>[:<port>][,...]`;
    }
    return `header ${TEST_EPP_ENDPOINT_SELECTION_HEADER}: ${value} names no candidate endpoint of this pool`;
  }
}

/** No parameters (GIE's takes none either). */
export const headerBasedTestingFilterFactory: PluginFactory = (name) => new HeaderBasedTestingFilter(name);
