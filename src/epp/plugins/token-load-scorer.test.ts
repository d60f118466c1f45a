/** token-load-scorer: 1 - min(t, T) / T over the tokens in flight it counts itself, plus the request's own. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import { Scheduler } from '../framework/scheduler.js';
import type { SchedulingRequest } from '../framework/scheduling-request.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { registerBuiltins } from './register-builtins.js';
import { DEFAULT_QUEUE_THRESHOLD_TOKENS, type TokenLoadScorer } from './token-load-scorer.js';

/** A prompt of `chars` characters: chars / 4 input tokens plus 1.5 x that output, unless max_tokens caps it. */
const req = (chars: number, body?: Record<string, unknown>): SchedulingRequest => ({ ...request({ prompt: 'x'.repeat(chars) }), ...(body ? { body } : {}) });
const rounded = (xs: ArrayLike<number>) => Array.from(xs, (x) => Math.round(x * 1e9) / 1e9);
const make = (params: Record<string, unknown> = {}, warn?: (m: string) => void) => registerBuiltins().create('token-load-scorer', 'tl', params, { warn }) as TokenLoadScorer;

describe('token-load-scorer', () => {
  test('scores by the tokens of the requests picked there and not finished, against queueThresholdTokens', () => {
    const s = make({ queueThresholdTokens: 1000 });
    const [a, b, c] = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build(), endpoint('10.0.0.3').build()];
    s.preRequest(context(req(800)), a); // 200 + 300 tokens
    s.preRequest(context(req(1600)), b); // 400 + 600
    s.preRequest(context(req(1600)), b);
    // A request without a prompt has no tokens of its own: the endpoints' loads alone.
    assert.deepEqual(Array.from(s.score(context(req(0)), [a, b, c])), [0.5, 0, 1]);
  });

  test("the request being scored counts as its own weight on every endpoint, as llm-d's uncached tokens", () => {
    const s = make({ queueThresholdTokens: 1000 });
    const [a, b] = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build()];
    s.preRequest(context(req(800)), a);
    // 40 + 60 tokens of its own: 600 on a, 100 on b.
    assert.deepEqual(rounded(s.score(context(req(160)), [a, b])), [0.4, 0.9]);
    // max_tokens caps the output estimate: 40 + 10.
    assert.deepEqual(rounded(s.score(context(req(160, { max_tokens: 10 })), [a, b])), [0.45, 0.95]);
  });

  test('a finished response takes back exactly what its pick added, once', () => {
    const s = make({ queueThresholdTokens: 1000 });
    const a = endpoint('10.0.0.1').build();
    const first = context(req(800));
    const second = context(req(160));
    s.preRequest(first, a);
    s.preRequest(second, a);
    assert.equal(s.tokens.of(a.address), 600);
    s.responseComplete(first, a);
    s.responseComplete(first, a);
    assert.equal(s.tokens.of(a.address), 100, 'the second request still counts');
    s.responseComplete(second, a);
    assert.deepEqual(Array.from(s.score(context(req(0)), [a])), [1]);
  });

  test('served by another endpoint than picked (an ext_proc fallback): the pick is still taken back', () => {
    const s = make({ queueThresholdTokens: 1000 });
    const [picked, fallback] = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build()];
    const ctx = context(req(800));
    s.preRequest(ctx, picked);
    s.responseComplete(ctx, fallback);
    assert.equal(s.tokens.of(picked.address), 0);
    assert.equal(s.tokens.of(fallback.address), 0);
  });

  test('an endpoint that left every pool is forgotten', () => {
    const s = make();
    const a = endpoint('10.0.0.1').build();
    s.preRequest(context(req(800)), a);
    s.forget(a.address);
    assert.equal(s.tokens.of(a.address), 0);
  });

  test('through the scheduler: a pick counts on the picked endpoint, the next request goes to the other', () => {
    const loaded = loadEndpointPickerConfig(
      `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: token-load-scorer
  parameters: {queueThresholdTokens: 1000}
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: token-load-scorer
  - pluginRef: max-score-picker
`,
      { file: 'epp.yaml', registry: registerBuiltins(), implicitServedModelFilter: false },
    );
    const scheduler = new Scheduler(loaded.schedulerConfig);
    const eps = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build()];
    const firstCtx = context(req(800));
    const first = scheduler.schedule(firstCtx, eps);
    assert.ok(first.endpoint);
    const second = scheduler.schedule(context(req(800)), eps);
    assert.notEqual(second.endpoint, first.endpoint);
    scheduler.responseComplete(firstCtx, first, first.endpoint);
    const scorer = loaded.schedulerConfig.plugins.get('token-load-scorer') as TokenLoadScorer;
    assert.equal(scorer.tokens.of(first.endpoint.address), 0);
  });

  test('parameters by llm-d names; a non-positive threshold is refused, not replaced', () => {
    assert.equal(make().queueThresholdTokens, DEFAULT_QUEUE_THRESHOLD_TOKENS);
    assert.equal(make({ queueThresholdTokens: 8192 }).queueThresholdTokens, 8192);
    assert.throws(() => make({ queueThresholdTokens: 0 }), /parameters\.queueThresholdTokens: must be a positive integer, got 0/);
    assert.throws(() => make({ queueThresholdToken: 10 }), /unknown parameter \(did you mean queueThresholdTokens\?\)/);
    const warnings: string[] = [];
    make({ inFlightLoadProducerName: 'inflight-load-producer' }, (w) => warnings.push(w));
    assert.match(warnings.join('\n'), /parameters\.inFlightLoadProducerName is ignored: this scorer counts the tokens in flight itself/);
  });
});
