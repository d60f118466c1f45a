/** Per-request matching of headers, query parameters and methods, and which rule and match a result names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRoutes } from './route-table.js';
import { matchRoute } from './match-route.js';
import { match, pool, request, route, type MatchBuilder } from './test-fixtures.js';
import type { RouteRequest } from './route-request.js';

const BASE = 'X-Gateway-Base-Model-Name';

const cases: { name: string; match: MatchBuilder; req: RouteRequest; want: boolean }[] = [
  { name: 'header exact', match: match().header(BASE, 'google/gemma-2b-it'), req: request('POST', '/v1', { headers: { [BASE]: 'google/gemma-2b-it' } }), want: true },
  { name: 'header name case-insensitive', match: match().header('x-GATEWAY-base-model-name', 'g'), req: request('POST', '/', { headers: { 'X-Gateway-Base-Model-Name': 'g' } }), want: true },
  { name: 'header value case-sensitive', match: match().header(BASE, 'g'), req: request('POST', '/', { headers: { [BASE]: 'G' } }), want: false },
  { name: 'header missing', match: match().header(BASE, 'g'), req: request('POST', '/'), want: false },
  { name: 'header exact is not a prefix', match: match().header(BASE, 'g'), req: request('POST', '/', { headers: { [BASE]: 'gg' } }), want: false },
  { name: 'header regex full match', match: match().header(BASE, 'meta-llama/.*', 'RegularExpression'), req: request('POST', '/', { headers: { [BASE]: 'meta-llama/Llama-3.1-8B' } }), want: true },
  { name: 'header regex is anchored', match: match().header(BASE, 'llama', 'RegularExpression'), req: request('POST', '/', { headers: { [BASE]: 'meta-llama/x' } }), want: false },
  { name: 'header regex, header missing', match: match().header(BASE, '.*', 'RegularExpression'), req: request('POST', '/'), want: false },
  // RE2's leading flag group, as routes written for Envoy-based Gateways use it.
  { name: 'header regex (?i) is case-insensitive', match: match().header(BASE, '(?i)meta-llama/llama-3.*', 'RegularExpression'), req: request('POST', '/', { headers: { [BASE]: 'meta-llama/Llama-3.1-8B' } }), want: true },
  { name: 'header regex (?i) stays anchored', match: match().header(BASE, '(?i)llama', 'RegularExpression'), req: request('POST', '/', { headers: { [BASE]: 'meta-llama/x' } }), want: false },
  { name: 'header regex (?s) lets . match a newline', match: match().header('a', '(?s)x.y', 'RegularExpression'), req: request('POST', '/', { headers: { a: 'x\ny' } }), want: true },
  { name: 'every header must match', match: match().header('a', '1').header('b', '2'), req: request('POST', '/', { headers: { a: '1', b: '3' } }), want: false },
  { name: 'first entry for a header name wins', match: match().header('a', '1').header('A', '2'), req: request('POST', '/', { headers: { a: '1' } }), want: true },
  { name: 'query exact', match: match().query('tier', 'gold'), req: request('GET', '/v1?tier=gold'), want: true },
  { name: 'query first value counts', match: match().query('tier', 'gold'), req: request('GET', '/v1?tier=silver&tier=gold'), want: false },
  { name: 'query name case-sensitive', match: match().query('tier', 'gold'), req: request('GET', '/v1?Tier=gold'), want: false },
  { name: 'query missing', match: match().query('tier', 'gold'), req: request('GET', '/v1'), want: false },
  { name: 'query regex full match', match: match().query('v', '[0-9]+', 'RegularExpression'), req: request('GET', '/?v=42'), want: true },
  { name: 'query regex is anchored', match: match().query('v', '[0-9]+', 'RegularExpression'), req: request('GET', '/?v=42a'), want: false },
  { name: 'query value decoded', match: match().query('m', 'a b'), req: request('GET', '/?m=a%20b'), want: true },
  { name: 'method equal', match: match().verb('POST'), req: request('POST', '/'), want: true },
  { name: 'method differs', match: match().verb('POST'), req: request('GET', '/'), want: false },
  { name: 'no method matches any', match: match(), req: request('DELETE', '/'), want: true },
  { name: 'all conditions', match: match().prefix('/v1').verb('POST').header('a', '1').query('q', 'x'), req: request('POST', '/v1/chat?q=x', { headers: { a: '1' } }), want: true },
  { name: 'all conditions but the path', match: match().prefix('/v1').verb('POST').header('a', '1').query('q', 'x'), req: request('POST', '/v2?q=x', { headers: { a: '1' } }), want: false },
];

test('matchRoute: headers, query parameters, methods', () => {
  for (const c of cases) {
    const table = compileRoutes([route('r').rule(c.match, pool('p'))], {});
    assert.equal(matchRoute(table, c.req) !== undefined, c.want, c.name);
  }
});

test('matchRoute: the matches of a rule are alternatives, and the result names which one applied', () => {
  const r = route('gemma')
    .rule(match().exact('/health'), pool('health'))
    .rule(match().header(BASE, 'a'), match().header(BASE, 'b'), pool('gemma-pool'));
  const table = compileRoutes([r], {});
  const m = matchRoute(table, request('POST', '/v1', { headers: { [BASE]: 'b' } }));
  assert.ok(m);
  assert.equal(m.route, r);
  assert.equal(m.ruleIndex, 1);
  assert.equal(m.matchIndex, 1);
  assert.equal(m.rule, r.rules[1]);
  assert.equal(m.match, r.rules[1]?.matches[1]);
  assert.equal(matchRoute(table, request('POST', '/v1', { headers: { [BASE]: 'c' } })), undefined);
});

test('matchRoute: an empty table matches nothing', () => {
  assert.equal(matchRoute(compileRoutes([], {}), request('GET', '/')), undefined);
});
