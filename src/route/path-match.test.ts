/** Path matching semantics: Exact equality, element-wise PathPrefix, anchored RegularExpression. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PathMatchType } from '../api/http-route.js';
import { compilePath } from './path-match.js';

const cases: { type: PathMatchType; value: string; path: string; want: boolean }[] = [
  { type: 'Exact', value: '/v1/completions', path: '/v1/completions', want: true },
  { type: 'Exact', value: '/v1/completions', path: '/v1/completions/', want: false },
  { type: 'Exact', value: '/v1/completions', path: '/v1/Completions', want: false },
  { type: 'Exact', value: '/v1', path: '/v1/x', want: false },
  { type: 'PathPrefix', value: '/v1', path: '/v1', want: true },
  { type: 'PathPrefix', value: '/v1', path: '/v1/', want: true },
  { type: 'PathPrefix', value: '/v1', path: '/v1/chat/completions', want: true },
  { type: 'PathPrefix', value: '/v1', path: '/v1x', want: false },
  { type: 'PathPrefix', value: '/v1', path: '/v', want: false },
  { type: 'PathPrefix', value: '/v1', path: '/V1/x', want: false },
  { type: 'PathPrefix', value: '/v1/', path: '/v1', want: true },
  { type: 'PathPrefix', value: '/v1/', path: '/v1/x', want: true },
  { type: 'PathPrefix', value: '/v1/', path: '/v1x', want: false },
  { type: 'PathPrefix', value: '/', path: '/', want: true },
  { type: 'PathPrefix', value: '/', path: '/anything/at/all', want: true },
  { type: 'PathPrefix', value: '/', path: '*', want: true },
  { type: 'RegularExpression', value: '/v[0-9]+/.*', path: '/v1/completions', want: true },
  { type: 'RegularExpression', value: '/v[0-9]+/.*', path: '/api/v1/completions', want: false },
  { type: 'RegularExpression', value: '/v[0-9]+', path: '/v1/completions', want: false },
  { type: 'RegularExpression', value: '/a|/b', path: '/b', want: true },
  { type: 'RegularExpression', value: '/a|/b', path: '/ab', want: false },
  { type: 'RegularExpression', value: '(?i)/v1/chat/.*', path: '/V1/Chat/completions', want: true },
  { type: 'RegularExpression', value: '(?i)/a|/b', path: '/A', want: true },
  { type: 'RegularExpression', value: '(?i)/a|/b', path: '/Ab', want: false },
];

test('path matches', () => {
  for (const c of cases) {
    assert.equal(compilePath({ type: c.type, value: c.value }).test(c.path), c.want, `${c.type} ${c.value} vs ${c.path}`);
  }
});

test('path precedence keys: trailing slashes of a prefix do not count', () => {
  const keys = (type: PathMatchType, value: string) => {
    const p = compilePath({ type, value });
    return [p.rank, p.length];
  };
  assert.deepEqual(keys('Exact', '/v1/'), [0, 4]);
  assert.deepEqual(keys('PathPrefix', '/v1/'), [1, 3]);
  assert.deepEqual(keys('PathPrefix', '/'), [1, 0]);
  assert.deepEqual(keys('RegularExpression', '/v1/.*'), [2, 0]);
});

test('a regex that does not compile (reported by the config reader) matches nothing instead of throwing', () => {
  assert.equal(compilePath({ type: 'RegularExpression', value: '/v1/(' }).test('/v1/('), false);
  assert.equal(compilePath({ type: 'RegularExpression', value: '[a' }).test('[a'), false);
});
