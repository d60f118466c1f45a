import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateApiKey, hashApiKey, normalKeyHash, presentedKey } from './api-key.js';

test('keys are random and hashed as sha256:<hex>', () => {
  const a = generateApiKey();
  assert.notEqual(a, generateApiKey());
  assert.match(a, /^ig-[A-Za-z0-9_-]{43}$/);
  assert.equal(normalKeyHash(hashApiKey(a)), hashApiKey(a), 'what keys create prints is taken as it is');
  assert.equal(normalKeyHash('SHA256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'), hashApiKey('abc'));
  for (const bad of ['sha256:ba78', 'md5:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', ' sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad']) assert.equal(normalKeyHash(bad), undefined, bad);
  assert.equal(hashApiKey('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('the presented key: Bearer first, then api-key, then x-api-key (the Anthropic SDKs)', () => {
  const cases: [string | undefined, string | undefined, string | undefined, string | undefined][] = [
    ['Bearer k1', undefined, undefined, 'k1'],
    ['bearer k1', 'k2', undefined, 'k1'],
    [undefined, 'k2', undefined, 'k2'],
    ['Basic xyz', 'k2', undefined, 'k2'],
    ['Bearer ', undefined, undefined, undefined],
    [undefined, undefined, undefined, undefined],
    [undefined, undefined, 'k3', 'k3'],
    ['Bearer k1', undefined, 'k3', 'k1'],
    [undefined, 'k2', 'k3', 'k2'],
    [undefined, ' ', ' k3 ', 'k3'],
  ];
  for (const [auth, apiKey, xApiKey, want] of cases) assert.equal(presentedKey(auth, apiKey, xApiKey), want, `${auth} ${apiKey} ${xApiKey}`);
});
