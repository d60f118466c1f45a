import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParamReader, PluginConfigError } from '../framework/param-reader.js';
import { DEFAULT_SILENCE_TIMEOUT_MS } from '../../kvevents/kv-events-settings.js';
import { readKvEventsSettings } from './kv-events-params.js';

const SITE = { at: 'plugins[0]', name: 'precise-prefix-cache-producer', type: 'precise-prefix-cache-producer' };
const read = (kvEventsConfig: Record<string, unknown>) => readKvEventsSettings(new ParamReader(SITE, { kvEventsConfig }));

test('kvEventsConfig.silenceTimeout: 5s by default, a Go duration, 0 for never; anything else is refused by name', () => {
  assert.equal(read({}).silenceTimeoutMs, DEFAULT_SILENCE_TIMEOUT_MS);
  assert.equal(read({ silenceTimeout: '25s' }).silenceTimeoutMs, 25_000);
  assert.equal(read({ silenceTimeout: '1m30s' }).silenceTimeoutMs, 90_000);
  assert.equal(read({ silenceTimeout: '0s' }).silenceTimeoutMs, Number.POSITIVE_INFINITY);
  for (const bad of ['soon', 5, '-1s']) {
    assert.throws(() => read({ silenceTimeout: bad }), (e: unknown) => e instanceof PluginConfigError && /silenceTimeout/.test(e.message), String(bad));
  }
});
