/** header-based-testing-filter: GIE's conformance cases (filter_test.go), plus data-parallel ranks and the empty cases' reasons. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { HeaderBasedTestingFilter, TEST_EPP_ENDPOINT_SELECTION_HEADER, parseEndpointSelection } from './header-based-testing-filter.js';
import { registerBuiltins } from './register-builtins.js';

const ep = (address: string): Endpoint => {
  const colon = address.lastIndexOf(':');
  const ip = address.slice(0, colon).replace(/^\[|\]$/g, '');
  return endpoint(ip).port(Number(address.slice(colon + 1))).build();
};

const run = (header: string | undefined, addresses: string[]): string[] => {
  const f = new HeaderBasedTestingFilter();
  const headers: Record<string, string> = header === undefined ? {} : { [TEST_EPP_ENDPOINT_SELECTION_HEADER]: header };
  return f.filter(context(request({ headers })), addresses.map(ep)).map((e) => e.address);
};

describe('header-based-testing-filter', () => {
  const cases: { name: string; header: string | undefined; input: string[]; want: string[] }[] = [
    { name: 'header unset: nothing', header: undefined, input: ['10.0.0.1:3000'], want: [] },
    { name: 'header blank: nothing', header: '  ', input: ['10.0.0.1:3000'], want: [] },
    { name: 'no IP matches: nothing', header: '10.0.0.99', input: ['10.0.0.1:3000'], want: [] },
    { name: 'bare IP matches whatever the port', header: '10.0.0.1', input: ['10.0.0.1:3002'], want: ['10.0.0.1:3002'] },
    { name: 'ip:port keeps that port only', header: '10.0.0.1:3002', input: ['10.0.0.1:3000', '10.0.0.1:3002', '10.0.0.2:3002'], want: ['10.0.0.1:3002'] },
    { name: 'ip:port with another port: nothing', header: '10.0.0.1:9999', input: ['10.0.0.1:3002'], want: [] },
    { name: 'several entries, spaces, duplicates', header: '10.0.0.3:3004, 10.0.0.2, 10.0.0.3', input: ['10.0.0.1:3000', '10.0.0.2:3002', '10.0.0.3:3004'], want: ['10.0.0.2:3002', '10.0.0.3:3004'] },
    { name: 'IPv6 with brackets and port', header: '[fd00::1]:3002', input: ['[fd00::1]:3002', '[fd00::2]:3002'], want: ['[fd00::1]:3002'] },
    { name: 'bare IPv6', header: 'fd00::2', input: ['[fd00::1]:3002', '[fd00::2]:3004'], want: ['[fd00::2]:3004'] },
    { name: 'bracketed IPv6 without port', header: '[fd00::2]', input: ['[fd00::1]:3002', '[fd00::2]:3004'], want: ['[fd00::2]:3004'] },
    // Data parallelism: three ranks per pod (GIE's DP conformance test).
    { name: 'bare IP keeps every rank of that pod', header: '10.0.0.2', input: ['10.0.0.1:3000', '10.0.0.2:3000', '10.0.0.2:3002', '10.0.0.2:3004'], want: ['10.0.0.2:3000', '10.0.0.2:3002', '10.0.0.2:3004'] },
    { name: 'two ranks of one pod', header: '10.0.0.2:3000,10.0.0.2:3004', input: ['10.0.0.2:3000', '10.0.0.2:3002', '10.0.0.2:3004'], want: ['10.0.0.2:3000', '10.0.0.2:3004'] },
    { name: 'a pod (any rank) and a rank of another', header: '10.0.0.1,10.0.0.3:3002', input: ['10.0.0.1:3000', '10.0.0.1:3002', '10.0.0.3:3000', '10.0.0.3:3002'], want: ['10.0.0.1:3000', '10.0.0.1:3002', '10.0.0.3:3002'] },
    { name: 'input order, not header order', header: '10.0.0.2,10.0.0.1', input: ['10.0.0.1:8000', '10.0.0.2:8000'], want: ['10.0.0.1:8000', '10.0.0.2:8000'] },
    { name: 'a port that is not a number matches nothing', header: '10.0.0.1:http', input: ['10.0.0.1:8000'], want: [] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(run(c.header, c.input), c.want));

  test('a request without a body model (a GET) and without the header keeps every candidate, as GIE routes body-less requests at random', () => {
    const eps = ['10.0.0.1:8000', '10.0.0.2:8000'].map(ep);
    const f = new HeaderBasedTestingFilter();
    assert.equal(f.filter(context(request({ model: undefined })), eps), eps);
    assert.deepEqual(f.filter(context(request({ model: undefined, headers: { 'test-epp-endpoint-selection': '10.0.0.2' } })), eps), [eps[1]], 'the header still pins a GET');
  });

  test('parses entries into bare IPs and ip/port pairs', () => {
    const s = parseEndpointSelection(' 10.0.0.1 ,,10.0.0.2:8000, [fd00::1]:9000 ,fd00::3, 10.0.0.4: ');
    assert.deepEqual([...s.ips].sort(), ['10.0.0.1', '10.0.0.4', 'fd00::3']);
    assert.deepEqual([...s.addresses].sort(), ['10.0.0.2 8000', 'fd00::1 9000']);
  });

  test('says why it kept nothing: no header, or a header naming no candidate', () => {
    const f = new HeaderBasedTestingFilter();
    assert.match(f.whyEmpty(context(request())), /no test-epp-endpoint-selection header.*send test-epp-endpoint-selection: <ip>\[:<port>\]/);
    assert.match(f.whyEmpty(context(request({ headers: { 'test-epp-endpoint-selection': '10.9.9.9' } }))), /header test-epp-endpoint-selection: 10\.9\.9\.9 names no candidate endpoint/);
  });

  test('registered under GIE\'s type name; takes no parameters', () => {
    const f = registerBuiltins().create('header-based-testing-filter', 'pin');
    assert.equal(f.name, 'pin');
    assert.throws(() => registerBuiltins().create('header-based-testing-filter', 'pin', { header: 'x' }), /parameters\.header: unknown parameter/);
  });
});
