/** One-line descriptions of matches and rule references. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMatch, describeRuleRef } from './describe.js';
import { compileRoutes } from './route-table.js';
import { match, pool, route, type MatchBuilder } from './test-fixtures.js';

test('describeMatch', () => {
  const cases: [MatchBuilder, string][] = [
    [match(), 'path PathPrefix /'],
    [match().prefix('/v1').header('X-Gateway-Base-Model-Name', 'google/gemma-2b-it'), 'path PathPrefix /v1, header X-Gateway-Base-Model-Name=google/gemma-2b-it'],
    [match().exact('/v1/models').verb('GET'), 'path Exact /v1/models, method GET'],
    [
      match().regex('/v[0-9]+/.*').header('x-a', 'a.*', 'RegularExpression').query('tier', 'gold').query('v', '[0-9]+', 'RegularExpression'),
      'path RegularExpression /v[0-9]+/.*, header x-a=~a.*, query tier=gold, query v=~[0-9]+',
    ],
  ];
  for (const [m, want] of cases) assert.equal(describeMatch(m), want);
});

test('describeRuleRef names the rule, and the match only when a rule has several', () => {
  const table = compileRoutes(
    [route('gemma', 'llm').rule(pool('p')).namedRule('canary', match().prefix('/a'), match().prefix('/b'), pool('p'))],
    {},
  );
  assert.deepEqual(table.entries.map(describeRuleRef).sort(), [
    'route llm/gemma rule 0',
    'route llm/gemma rule 1 (canary) match 0',
    'route llm/gemma rule 1 (canary) match 1',
  ]);
});
