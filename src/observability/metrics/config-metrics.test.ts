/** ConfigMetrics: what an alert on the configuration reads, including what a live source sets aside while every reload is ok. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { buildSnapshot } from '../../config/snapshot.js';
import { inferencePool } from '../../api/test-fixtures.js';
import { ConfigMetrics } from './config-metrics.js';

async function exposition(m: ConfigMetrics): Promise<string> {
  const registry = new Registry();
  m.register(registry);
  return registry.metrics();
}

test('infergate_config_warnings counts the warnings of the configuration in force', async () => {
  const m = new ConfigMetrics();
  // A pool that selects no pods: one warning, the snapshot still applies.
  const snapshot = buildSnapshot([inferencePool('gemma').selects({ app: 'gemma' })]);
  assert.equal(snapshot.warnings.length, 1);
  m.reloaded(true, snapshot);
  assert.match(await exposition(m), /^infergate_config_warnings 1$/m);
  m.reloaded(true, buildSnapshot([]));
  assert.match(await exposition(m), /^infergate_config_warnings 0$/m);
});

test('infergate_config_objects_ignored counts the objects set aside by kind, and nothing when none is', async () => {
  const m = new ConfigMetrics();
  let ignored = new Map<string, string[]>([
    ['InferencePool/llm/a', ['bad port']],
    ['InferencePool/llm/b', ['no selector']],
    ['InferenceObjective.llm-d.ai/llm/batch', ['bad priority']],
  ]);
  m.watchIgnored(() => ignored);
  const text = await exposition(m);
  assert.match(text, /^infergate_config_objects_ignored\{kind="InferencePool"\} 2$/m);
  assert.match(text, /^infergate_config_objects_ignored\{kind="InferenceObjective\.llm-d\.ai"\} 1$/m);
  ignored = new Map();
  assert.doesNotMatch(await exposition(m), /^infergate_config_objects_ignored\{/m);
});
