/** matchCovers: pairs of HTTPRoute matches -> whether the first accepts every request the second accepts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRoutes } from '../../route/route-table.js';
import { match, route, type MatchBuilder } from '../../route/test-fixtures.js';
import { matchCovers } from './match-covers.js';

const BASE = 'X-Gateway-Base-Model-Name';

const CASES: Array<[string, MatchBuilder, MatchBuilder, boolean]> = [
  ['"/" covers any path', match(), match().exact('/v1/models'), true],
  ['"/" covers a regex path', match().prefix('/'), match().regex('/v1/.*'), true],
  ['a prefix covers a longer prefix under it', match().prefix('/v1'), match().prefix('/v1/chat'), true],
  ['prefixes compare by path element', match().prefix('/v1'), match().prefix('/v1chat'), false],
  ['trailing slashes do not matter', match().prefix('/v1/'), match().prefix('/v1'), true],
  ['a prefix covers an Exact path under it', match().prefix('/v1'), match().exact('/v1/completions'), true],
  ['a longer prefix does not cover a shorter one', match().prefix('/v1/chat'), match().prefix('/v1'), false],
  ['Exact covers only the same Exact', match().exact('/v1/models'), match().exact('/v1/models'), true],
  ['Exact does not cover a prefix', match().exact('/v1'), match().prefix('/v1'), false],
  ['a regex covers an Exact path it matches', match().regex('/v1/(chat/)?completions'), match().exact('/v1/completions'), true],
  ['two different regexes never cover each other', match().regex('/v1/.*'), match().regex('/v1/chat.*'), false],
  ['no header condition covers any header condition', match(), match().header(BASE, 'a'), true],
  ['a header condition does not cover its absence', match().header(BASE, 'a'), match(), false],
  ['the same header value covers (names ignore case)', match().header(BASE, 'a'), match().header(BASE.toLowerCase(), 'a'), true],
  ['another header value does not', match().header(BASE, 'a'), match().header(BASE, 'b'), false],
  ['a header regex covers an Exact value it matches', match().header(BASE, 'google/.*', 'RegularExpression'), match().header(BASE, 'google/gemma'), true],
  ['a method covers the same method only', match().verb('POST'), match().verb('POST'), true],
  ['a method does not cover any method', match().verb('POST'), match(), false],
  ['no method covers a method', match(), match().verb('GET'), true],
  ['query parameters like headers', match().query('v', '1'), match().query('v', '1').query('w', '2'), true],
  ['query parameter names are case-sensitive', match().query('v', '1'), match().query('V', '1'), false],
];

test('matchCovers', () => {
  for (const [name, a, b, want] of CASES) {
    const { entries } = compileRoutes([route('a').rule(a), route('b').rule(b)]);
    const ea = entries.find((e) => e.route.meta.name === 'a')!;
    const eb = entries.find((e) => e.route.meta.name === 'b')!;
    assert.equal(matchCovers(ea, eb), want, name);
  }
});
