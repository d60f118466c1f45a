/** Absolute-form request targets made origin-form. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originForm } from './request-target.js';

const cases: [target: string, want: { url: string; host: string } | undefined][] = [
  ['http://example.com/v1/chat/completions', { url: '/v1/chat/completions', host: 'example.com' }],
  ['HTTP://Example.com:8080/v1/models?x=1&y=2', { url: '/v1/models?x=1&y=2', host: 'example.com:8080' }],
  ['https://user:pw@example.com/v1/models', { url: '/v1/models', host: 'example.com' }],
  ['http://example.com', { url: '/', host: 'example.com' }],
  ['*', undefined],
  ['example.com:443', undefined],
  ['ftp://example.com/v1/models', undefined],
  ['http://[bad/v1/models', undefined],
];

for (const [target, want] of cases) {
  test(`${target} -> ${JSON.stringify(want)}`, () => assert.deepEqual(originForm(target), want));
}
