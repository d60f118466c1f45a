/** Hostname matching: normalization of the request Host, wildcards, and hostname precedence between routes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostnameMatches, normalizeHost, routeAcceptsHost } from './hostname-match.js';
import { compileRoutes } from './route-table.js';
import { matchRoute } from './match-route.js';
import { match, pool, request, route } from './test-fixtures.js';

test('normalizeHost lower-cases and strips the port', () => {
  const cases: [string, string][] = [
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    ['::1', '::1'],
  ];
  for (const [host, want] of cases) assert.equal(normalizeHost(host), want, host);
});

test('hostnameMatches: precise names and wildcards of one or more labels', () => {
  const cases: { pattern: string; host: string; want: boolean }[] = [
    { pattern: 'example.com', host: 'example.com', want: true },
    { pattern: 'example.com', host: 'foo.example.com', want: false },
    { pattern: '*.example.com', host: 'foo.example.com', want: true },
    { pattern: '*.example.com', host: 'foo.bar.example.com', want: true },
    { pattern: '*.example.com', host: 'example.com', want: false },
    { pattern: '*.example.com', host: '.example.com', want: false },
    { pattern: '*.example.com', host: 'fooexample.com', want: false },
    { pattern: '*.example.com', host: 'foo.example.org', want: false },
  ];
  for (const c of cases) assert.equal(hostnameMatches(c.pattern, c.host), c.want, `${c.pattern} vs ${c.host}`);
});

test('routeAcceptsHost: no hostnames accepts anything; a missing Host only those', () => {
  assert.equal(routeAcceptsHost([], undefined), true);
  assert.equal(routeAcceptsHost([], 'a.example.com'), true);
  assert.equal(routeAcceptsHost(['a.example.com'], undefined), false);
  assert.equal(routeAcceptsHost(['b.example.com', '*.example.com'], 'a.example.com'), true);
});

test('matchRoute: hostnames', () => {
  const table = compileRoutes(
    [
      route('any').rule(pool('any-pool')),
      route('wild').host('*.example.com').rule(pool('wild-pool')),
      route('deep-wild').host('*.api.example.com').rule(pool('deep-pool')),
      route('precise').host('chat.api.example.com').rule(match().prefix('/v1'), pool('precise-pool')),
    ],
    {},
  );
  const cases: { host: string | undefined; path: string; want: string }[] = [
    { host: undefined, path: '/v1', want: 'any' },
    { host: 'other.org', path: '/v1', want: 'any' },
    { host: 'example.com', path: '/v1', want: 'any' },
    { host: 'foo.example.com', path: '/v1', want: 'wild' },
    { host: 'FOO.Example.com:8443', path: '/v1', want: 'wild' },
    { host: 'x.api.example.com', path: '/v1', want: 'deep-wild' },
    { host: 'api.example.com', path: '/v1', want: 'wild' },
    { host: 'chat.api.example.com', path: '/v1/chat', want: 'precise' },
    // The precise route does not match this path, so the next most precise hostname gets its turn.
    { host: 'chat.api.example.com', path: '/other', want: 'deep-wild' },
  ];
  for (const c of cases) {
    const req = request('POST', c.path, c.host === undefined ? {} : { host: c.host });
    assert.equal(matchRoute(table, req)?.route.meta.name, c.want, `${c.host} ${c.path}`);
  }
});

test('matchRoute: a route with hostnames never serves a request without a Host', () => {
  const table = compileRoutes([route('wild').host('*.example.com').rule(pool('p'))], {});
  assert.equal(matchRoute(table, request('GET', '/')), undefined);
  assert.equal(matchRoute(table, request('GET', '/', { host: 'a.example.com' }))?.route.meta.name, 'wild');
});
