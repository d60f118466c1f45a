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

test("llm-d-inference-scheduler v0.3/v0.4's indexerConfig.tokenProcessorConfig (before llm-d-kv-cache v0.5) is read, with a warning to move it", () => {
  const warnings: string[] = [];
  const params = { indexerConfig: { tokenProcessorConfig: { blockSize: 64, hashSeed: '42' }, prefixStoreConfig: { blockSize: 256 }, kvBlockIndexConfig: { enableMetrics: true } } };
  const r = new ParamReader(SITE, params, (m) => warnings.push(m));
  const s = readKvEventsSettings(r);
  r.finish();
  assert.equal(s.blockSize, 64);
  assert.equal(s.hashSeed, '42');
  assert.ok(warnings.some((w) => /indexerConfig\.tokenProcessorConfig is read as parameters\.tokenProcessorConfig.*move it/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /indexerConfig\.prefixStoreConfig is ignored/.test(w)), warnings.join('\n'));
  // Both places at once is ambiguous: refused, naming the one to keep.
  assert.throws(
    () => readKvEventsSettings(new ParamReader(SITE, { tokenProcessorConfig: { blockSize: 16 }, indexerConfig: { tokenProcessorConfig: { blockSize: 64 } } })),
    (e: unknown) => e instanceof PluginConfigError && /indexerConfig\.tokenProcessorConfig/.test(e.field) && /keep parameters\.tokenProcessorConfig/.test(e.message),
  );
});

test("indexerConfig.kvCacheBackendConfigs replaces llm-d's default list: a tier it does not name weighs 1.0, as in llm-d", () => {
  const weights = (indexerConfig?: Record<string, unknown>) => readKvEventsSettings(new ParamReader(SITE, indexerConfig ? { indexerConfig } : {})).tierWeights;
  assert.deepEqual(weights(), { gpu: 1, cpu: 0.8, other: 1 });
  assert.deepEqual(weights({ kvCacheBackendConfigs: [{ name: 'gpu', weight: 1 }] }), { gpu: 1, cpu: 1, other: 1 });
  assert.deepEqual(weights({ kvCacheBackendConfigs: [{ name: 'gpu', weight: 1 }, { name: 'cpu', weight: 0.5 }] }), { gpu: 1, cpu: 0.5, other: 1 });
  assert.deepEqual(weights({ kvCacheBackendConfigs: [] }), { gpu: 1, cpu: 1, other: 1 });
});

test('discoverPods: false without a zmqEndpoint receives no event at all: a warning says so; with either, none', () => {
  const warned = (kvEventsConfig: Record<string, unknown>) => {
    const warnings: string[] = [];
    readKvEventsSettings(new ParamReader(SITE, { kvEventsConfig }, (m) => warnings.push(m)));
    return warnings.filter((w) => /no KV events are received/.test(w));
  };
  assert.equal(warned({ discoverPods: false }).length, 1);
  assert.match(warned({ discoverPods: false })[0]!, /kvEventsConfig\.discoverPods is false and no zmqEndpoint is set/);
  assert.deepEqual(warned({ discoverPods: false, zmqEndpoint: 'tcp://0.0.0.0:5557' }), []);
  assert.deepEqual(warned({}), []);
});
