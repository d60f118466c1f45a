/** Reasons given in 404s: the nearest misses first, capped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRoutes } from './route-table.js';
import { explainNoMatch } from './match-route.js';
import { match, pool, request, route } from './test-fixtures.js';

const BASE = 'X-Gateway-Base-Model-Name';

test('explainNoMatch', () => {
  const routes = [
    route('gemma').rule(match().prefix('/v1').header(BASE, 'google/gemma-2b-it'), pool('gemma-pool')),
    route('llama').rule(match().prefix('/v1').header(BASE, 'meta-llama/.*', 'RegularExpression').verb('POST'), pool('llama-pool')),
    route('tenant').host('*.tenant.example.com').rule(match().prefix('/v1'), pool('tenant-pool')),
    route('admin').rule(match().exact('/admin').query('token', 'x'), pool('admin-pool')),
  ];
  const table = compileRoutes(routes, {});
  const cases: { name: string; req: ReturnType<typeof request>; want: string[] }[] = [
    {
      name: "the model's rule missing the method; the other model's rule is not named",
      req: request('GET', '/v1/chat/completions', { headers: { [BASE]: 'meta-llama/x' } }),
      want: ['route default/llama rule 0: method is GET, wants POST'],
    },
    {
      name: 'a query parameter miss',
      req: request('GET', '/admin?token=y'),
      want: ['route default/admin rule 0: query param token is "y", wants "x"'],
    },
    {
      // The rules of other models match path and host, but the fix is the Host of the one that takes this model.
      name: 'a rule that takes the model on another host is nearer than rules for other models',
      req: request('POST', '/v1', { host: 'other.org', headers: { [BASE]: 'foo' } }),
      want: ['route default/tenant rule 0: host is "other.org", wants one of *.tenant.example.com'],
    },
    {
      name: 'path misses name everything else the rule misses too',
      req: request('POST', '/v2/chat', { headers: { [BASE]: 'google/gemma-2b-it' } }),
      want: [
        'route default/admin rule 0: path "/v2/chat" does not match Exact /admin; query param token is missing, wants "x"',
        'route default/gemma rule 0: path "/v2/chat" does not match PathPrefix /v1',
        'route default/tenant rule 0: path "/v2/chat" does not match PathPrefix /v1; host is missing, wants one of *.tenant.example.com',
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(explainNoMatch(table, c.req), c.want, c.name);
});

test('explainNoMatch: rules for other models only when no rule takes this one; a request with no model is told where the header comes from', () => {
  const table = compileRoutes(
    [
      route('gemma').rule(match().prefix('/v1').header(BASE, 'google/gemma-2b-it'), pool('gemma-pool')),
      route('llama').host('llm.example.com').rule(match().prefix('/v1').header(BASE, 'meta-llama/.*', 'RegularExpression'), pool('llama-pool')),
    ],
    {},
  );
  assert.deepEqual(explainNoMatch(table, request('POST', '/v1/completions', { headers: { [BASE]: 'foo' } })), [
    'route default/gemma rule 0: header x-gateway-base-model-name is "foo", wants "google/gemma-2b-it"',
    'route default/llama rule 0: host is missing, wants one of llm.example.com; header x-gateway-base-model-name is "foo", wants a match of /meta-llama/.*/',
  ]);
  assert.deepEqual(explainNoMatch(table, request('DELETE', '/v1/foo', { host: 'llm.example.com' })), [
    'route default/gemma rule 0: header x-gateway-base-model-name is missing (set from the body\'s "model", and this request names none), wants "google/gemma-2b-it"',
    'route default/llama rule 0: header x-gateway-base-model-name is missing (set from the body\'s "model", and this request names none), wants a match of /meta-llama/.*/',
  ]);
  // gemma's rule on a host it does not take: only that rule, not llama's, which matches path and host.
  const hosted = compileRoutes(
    [
      route('gemma').host('llm.example.com').rule(match().prefix('/').header(BASE, 'google/gemma-2b-it'), pool('gemma-pool')),
      route('phi').rule(match().prefix('/').header(BASE, 'microsoft/phi'), pool('phi-pool')),
    ],
    {},
  );
  assert.deepEqual(explainNoMatch(hosted, request('POST', '/v1/completions', { host: '127.0.0.1', headers: { [BASE]: 'google/gemma-2b-it' } })), [
    'route default/gemma rule 0: host is "127.0.0.1", wants one of llm.example.com',
  ]);
});

test('explainNoMatch: hostname misses', () => {
  const table = compileRoutes([route('tenant').host('*.tenant.example.com', 'tenant.example.com').rule(match().prefix('/v1'), pool('p'))], {});
  assert.deepEqual(explainNoMatch(table, request('POST', '/v1', { host: 'other.org:8080' })), [
    'route default/tenant rule 0: host is "other.org", wants one of *.tenant.example.com, tenant.example.com',
  ]);
  assert.deepEqual(explainNoMatch(table, request('POST', '/v1')), [
    'route default/tenant rule 0: host is missing, wants one of *.tenant.example.com, tenant.example.com',
  ]);
});

test('explainNoMatch: a route ignored for its gateway that would have matched is the nearest miss', () => {
  const table = compileRoutes(
    [route('gemma').parent('other-gw').rule(match().prefix('/v1'), pool('p')), route('mine').parent('gw').rule(match().exact('/x'), pool('p'))],
    { gatewayName: 'gw' },
  );
  assert.deepEqual(explainNoMatch(table, request('POST', '/v1/chat')), [
    'route default/gemma rule 0 would match, but default/gemma is ignored: its parentRefs name gateway other-gw, not gw',
  ]);
});

test('explainNoMatch: nothing served', () => {
  assert.deepEqual(explainNoMatch(compileRoutes([], {}), request('GET', '/')), ['no HTTPRoute is configured']);
  const table = compileRoutes([route('a').parent('x').rule(match().exact('/a'), pool('p'))], { gatewayName: 'gw' });
  assert.deepEqual(explainNoMatch(table, request('GET', '/b')), ['route default/a ignored: its parentRefs name gateway x, not gw']);
});

test('explainNoMatch: capped, with a count of what was left out', () => {
  const routes = Array.from({ length: 8 }, (_, i) => route(`r${i}`).rule(match().header('m', `m${i}`), pool('p')));
  const lines = explainNoMatch(compileRoutes(routes, {}), request('GET', '/'));
  assert.equal(lines.length, 5);
  assert.equal(lines[4], '...and 4 more');
  assert.equal(explainNoMatch(compileRoutes(routes, {}), request('GET', '/'), 3).length, 3);
});

test('explainNoMatch: nothing to explain when a route matches', () => {
  const table = compileRoutes([route('a').rule(pool('p'))], {});
  assert.deepEqual(explainNoMatch(table, request('GET', '/')), []);
});
