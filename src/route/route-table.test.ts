/** Gateway API precedence between matching rules, and which routes attach to a named gateway. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HTTPRoute } from '../api/http-route.js';
import { compileRoutes } from './route-table.js';
import { matchRoute } from './match-route.js';
import { match, pool, request, route } from './test-fixtures.js';
import type { RouteRequest } from './route-request.js';

const precedence: { name: string; routes: HTTPRoute[]; req: RouteRequest; want: string }[] = [
  {
    name: 'exact beats a longer prefix',
    routes: [route('prefix').rule(match().prefix('/v1/chat/completions/x'), pool('p')), route('exact').rule(match().exact('/v1/chat/completions/x'), pool('p'))],
    req: request('POST', '/v1/chat/completions/x'),
    want: 'exact',
  },
  {
    name: 'longer prefix wins',
    routes: [route('short').rule(match().prefix('/v1'), pool('p')), route('long').rule(match().prefix('/v1/chat'), pool('p'))],
    req: request('POST', '/v1/chat/completions'),
    want: 'long',
  },
  {
    name: 'longer prefix wins over more headers',
    routes: [route('headers').rule(match().prefix('/v1').header('a', '1').header('b', '2'), pool('p')), route('long').rule(match().prefix('/v1/chat'), pool('p'))],
    req: request('POST', '/v1/chat', { headers: { a: '1', b: '2' } }),
    want: 'long',
  },
  {
    name: 'a trailing slash does not make a prefix longer',
    routes: [route('slash').rule(match().prefix('/v1/'), pool('p')), route('header').rule(match().prefix('/v1').header('a', '1'), pool('p'))],
    req: request('POST', '/v1/x', { headers: { a: '1' } }),
    want: 'header',
  },
  {
    name: 'any prefix, even "/", beats a regular expression',
    routes: [route('regex').rule(match().regex('/v1/.*').header('a', '1'), pool('p')), route('root').rule(match().prefix('/'), pool('p'))],
    req: request('POST', '/v1/chat', { headers: { a: '1' } }),
    want: 'root',
  },
  {
    name: 'a regular expression catches what no literal path does',
    routes: [route('regex').rule(match().regex('/v[0-9]/.*'), pool('p')), route('other').rule(match().prefix('/v2'), pool('p'))],
    req: request('POST', '/v1/chat'),
    want: 'regex',
  },
  {
    name: 'method-specific beats not',
    routes: [route('any-method').rule(match().prefix('/v1').header('a', '1'), pool('p')), route('post').rule(match().prefix('/v1').verb('POST'), pool('p'))],
    req: request('POST', '/v1', { headers: { a: '1' } }),
    want: 'post',
  },
  {
    name: 'more headers win',
    routes: [route('one').rule(match().header('a', '1'), pool('p')), route('two').rule(match().header('a', '1').header('b', '2'), pool('p'))],
    req: request('POST', '/', { headers: { a: '1', b: '2' } }),
    want: 'two',
  },
  {
    name: 'more headers win over more query params',
    routes: [route('queries').rule(match().query('x', '1').query('y', '2'), pool('p')), route('header').rule(match().header('a', '1'), pool('p'))],
    req: request('POST', '/?x=1&y=2', { headers: { a: '1' } }),
    want: 'header',
  },
  {
    name: 'more query params win',
    routes: [route('one').rule(match().query('x', '1'), pool('p')), route('two').rule(match().query('x', '1').query('y', '2'), pool('p'))],
    req: request('POST', '/?x=1&y=2'),
    want: 'two',
  },
  {
    name: 'older route wins',
    routes: [route('a-new').created('2025-01-02T00:00:00Z').rule(pool('p')), route('b-old').created('2025-01-01T00:00:00Z').rule(pool('p'))],
    req: request('POST', '/'),
    want: 'b-old',
  },
  {
    name: 'timestamps compare as instants, not strings',
    routes: [route('a').created('2025-01-01T00:00:00Z').rule(pool('p')), route('b').created('2025-01-01T01:00:00+02:00').rule(pool('p'))],
    req: request('POST', '/'),
    want: 'b',
  },
  {
    name: 'a route with a timestamp beats one without',
    routes: [route('a-none').rule(pool('p')), route('b-dated').created('2030-01-01T00:00:00Z').rule(pool('p'))],
    req: request('POST', '/'),
    want: 'b-dated',
  },
  {
    name: 'alphabetical namespace/name breaks ties',
    routes: [route('a', 'zeta').rule(pool('p')), route('b', 'alpha').rule(pool('p')), route('a', 'alpha').rule(pool('p'))],
    req: request('POST', '/'),
    want: 'alpha/a',
  },
];

test('precedence across routes', () => {
  for (const c of precedence) {
    for (const order of [c.routes, [...c.routes].reverse()]) {
      const m = matchRoute(compileRoutes(order, {}), c.req);
      const got = c.want.includes('/') ? `${m?.route.meta.namespace}/${m?.route.meta.name}` : m?.route.meta.name;
      assert.equal(got, c.want, c.name);
    }
  }
});

test('precedence within a route: rule order, then match order', () => {
  const r = route('r')
    .rule(match().header('a', '1'), pool('first'))
    .rule(match().header('b', '2'), match().header('a', '1'), pool('second'));
  const m = matchRoute(compileRoutes([r], {}), request('POST', '/', { headers: { a: '1', b: '2' } }));
  assert.deepEqual([m?.ruleIndex, m?.matchIndex], [0, 0]);

  const r2 = route('r2').rule(match().header('b', '2'), match().header('a', '1'), pool('only'));
  const m2 = matchRoute(compileRoutes([r2], {}), request('POST', '/', { headers: { a: '1', b: '2' } }));
  assert.deepEqual([m2?.ruleIndex, m2?.matchIndex], [0, 0]);
});

test('a later, more specific rule of the same route still wins', () => {
  const r = route('r').rule(match().prefix('/v1'), pool('general')).rule(match().prefix('/v1').header('a', '1'), pool('special'));
  const m = matchRoute(compileRoutes([r], {}), request('POST', '/v1', { headers: { a: '1' } }));
  assert.equal(m?.ruleIndex, 1);
});

test('entries are listed in precedence order', () => {
  const table = compileRoutes(
    [route('r').rule(match().regex('/.*'), pool('p')).rule(match().prefix('/v1'), match().exact('/v1/models'), match().prefix('/v1/chat'), pool('p'))],
    {},
  );
  assert.deepEqual(
    table.entries.map((e) => `${e.match.path.type} ${e.match.path.value}`),
    ['Exact /v1/models', 'PathPrefix /v1/chat', 'PathPrefix /v1', 'RegularExpression /.*'],
  );
});

test('gatewayName: only routes attached to that Gateway are served', () => {
  const routes = [
    route('mine').parent('infergate').rule(match().header('m', 'mine'), pool('p')),
    route('also-mine').parent('other').parent('infergate').rule(match().header('m', 'also'), pool('p')),
    route('theirs').parent('other').rule(match().header('m', 'theirs'), pool('p')),
    route('several').parent('a').parent('b').rule(pool('p')),
    route('mesh').parent('infergate', 'Service', '').rule(pool('p')),
    route('wrong-group').parent('infergate', 'Gateway', 'example.com').rule(pool('p')),
    route('orphan').rule(pool('p')),
  ];
  const table = compileRoutes(routes, { gatewayName: 'infergate' });
  assert.deepEqual(table.entries.map((e) => e.route.meta.name).sort(), ['also-mine', 'mine']);
  assert.deepEqual(
    table.ignored.map((i) => `route ${i.route.meta.name} ignored: ${i.reason}`),
    [
      'route theirs ignored: its parentRefs name gateway other, not infergate',
      'route several ignored: its parentRefs name gateways a, b, not infergate',
      'route mesh ignored: its parentRefs name no Gateway (Service infergate), not gateway infergate',
      'route wrong-group ignored: its parentRefs name no Gateway (Gateway infergate in group example.com), not gateway infergate',
      'route orphan ignored: it has no parentRefs, so it attaches to no gateway (this one is infergate)',
    ],
  );
  assert.equal(matchRoute(table, request('POST', '/', { headers: { m: 'theirs' } })), undefined);
  assert.equal(matchRoute(table, request('POST', '/', { headers: { m: 'also' } }))?.route.meta.name, 'also-mine');
});

test('without gatewayName every route is served', () => {
  const table = compileRoutes([route('a').parent('x').rule(pool('p')), route('b').rule(pool('p'))], {});
  assert.equal(table.entries.length, 2);
  assert.equal(table.ignored.length, 0);
});
