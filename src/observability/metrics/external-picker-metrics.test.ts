import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ExternalPickerMetrics } from './external-picker-metrics.js';

test("an external picker's decisions, their duration and its answers to the response headers, by pool and outcome", async () => {
  const m = new ExternalPickerMetrics();
  const registry = new Registry();
  m.register(registry);
  m.record('llm/gemma', { outcome: 'picked', seconds: 0.002, response: 'applied' });
  m.record('llm/gemma', { outcome: 'picked', seconds: 0.004, response: 'unanswered' });
  m.record('llm/gemma', { outcome: 'picked', seconds: 0.003 });
  m.record('llm/gemma', { outcome: 'unavailable', seconds: 10 });
  m.record('llm/phi', { outcome: 'immediate', seconds: 0.001 });
  const text = await registry.metrics();
  const value = (line: string): number => Number(new RegExp(`^${line.replace(/[{}"/.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('infergate_external_picker_decisions_total{pool="llm/gemma",outcome="picked"}'), 3);
  assert.equal(value('infergate_external_picker_decisions_total{pool="llm/gemma",outcome="unavailable"}'), 1);
  assert.equal(value('infergate_external_picker_decisions_total{pool="llm/phi",outcome="immediate"}'), 1);
  assert.equal(value('infergate_external_picker_response_answers_total{pool="llm/gemma",outcome="applied"}'), 1);
  assert.equal(value('infergate_external_picker_response_answers_total{pool="llm/gemma",outcome="unanswered"}'), 1);
  assert.doesNotMatch(text, /response_answers_total\{pool="llm\/phi"/, 'no answer to count when no endpoint answered');
  assert.equal(value('infergate_external_picker_decision_duration_seconds_count{pool="llm/gemma"}'), 4);
  assert.equal(value('infergate_external_picker_decision_duration_seconds_bucket{le="0.0025",pool="llm/gemma"}'), 1);
  assert.equal(value('infergate_external_picker_decision_duration_seconds_bucket{le="5",pool="llm/gemma"}'), 3);
  assert.equal(value('infergate_external_picker_decision_duration_seconds_bucket{le="10",pool="llm/gemma"}'), 4);
});
