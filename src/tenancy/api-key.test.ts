import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateApiKey, hashApiKey, isKeyHash, presentedKey } from './api-key.js';

test('keys are random and hashed as sha256:<hex>', () => {
  const a = generateApiKey();
  assert.notEqual(a, generateApiKey());
  assert.match(a, /^ig-[A-Za-z0-9_-]{43}$/);
  assert.ok(isKeyHash(hashApiKey(a)));
  assert.equal(hashApiKey('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('the presented key: Bearer first, then api-key', () => {
  const cases: [string | undefined, string | undefined, string | undefined][] = [
    ['Bearer k1', undefined, 'k1'],
    ['bearer k1', 'k2', 'k1'],
    [undefined, 'k2', 'k2'],
    ['Basic xyz', 'k2', 'k2'],
    ['Bearer ', undefined, undefined],
    [undefined, undefined, undefined],
  ];
  for (const [auth, apiKey, want] of cases) assert.equal(presentedKey(auth, apiKey), want, `${auth} ${apiKey}`);
});
