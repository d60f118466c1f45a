import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { hostFlag, intFlag, numberFlag, secondsFlag } from './parse-flags.js';

test('intFlag takes an integer in range and refuses the rest, an empty value included (it was read as 0)', () => {
  const port = intFlag(0, 65535);
  assert.equal(port('9090'), 9090);
  assert.equal(port('0'), 0);
  for (const bad of ['', ' ', '-1', '65536', '1.5', 'abc', '9090x']) {
    assert.throws(() => port(bad), (e: unknown) => e instanceof InvalidArgumentError && e.message === `must be an integer from 0 to 65535, got "${bad}"`, JSON.stringify(bad));
  }
});

test('numberFlag names the flag and the range, and refuses an empty value', () => {
  assert.equal(numberFlag('--x', '0.5', 0, 1, false), 0.5);
  assert.throws(() => numberFlag('--x', '', 0, 1, false), /^Error: --x must be a number from 0 to 1, got ""$/);
  assert.throws(() => numberFlag('--x', '0.5', 0, 1, true), /--x must be an integer from 0 to 1, got "0.5"/);
});

test('hostFlag refuses an empty address (Node binds it to every interface) and keeps the rest as given', () => {
  for (const host of ['127.0.0.1', '0.0.0.0', '::', 'localhost']) assert.equal(hostFlag(host), host);
  for (const bad of ['', ' ']) assert.throws(() => hostFlag(bad), (e: unknown) => e instanceof InvalidArgumentError && /0\.0\.0\.0 or :: for every interface/.test(e.message), JSON.stringify(bad));
});

test('secondsFlag takes seconds (bench --duration 90) or a Go duration (5m, 1m30s), and names the flag, the forms and the range otherwise', () => {
  assert.equal(secondsFlag('--duration', '90', 0.001, 604800), 90);
  assert.equal(secondsFlag('--duration', '0.5', 0.001, 604800), 0.5);
  assert.equal(secondsFlag('--duration', '5m', 0.001, 604800), 300);
  assert.equal(secondsFlag('--duration', '1m30s', 0.001, 604800), 90);
  assert.equal(secondsFlag('--grace', '0', 0, 3600), 0);
  for (const bad of ['-1', 'soon', '', '2h']) {
    assert.throws(() => secondsFlag('--grace', bad, 0, 3600), new RegExp(`^Error: --grace must be seconds \\(90, 0\\.5\\) or a duration \\(5m, 1m30s\\), from 0 to 1h, got "${bad}"$`), JSON.stringify(bad));
  }
});
