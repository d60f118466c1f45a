/** concurrency-detector's modes: requests, tokens (estimated tokens in flight) and hybrid (the larger ratio per endpoint). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEndpointPickerConfig } from '../epp/config/load-endpoint-picker-config.js';
import type { SchedulingRequest } from '../epp/framework/scheduling-request.js';
import { context, endpoint, request } from '../epp/framework/test-fixtures.js';
import { registerBuiltins } from '../epp/plugins/register-builtins.js';
import { DEFAULT_MAX_TOKEN_CONCURRENCY, TokenConcurrencyDetector, type ConcurrencyDetector } from './concurrency-detector.js';
import { estimateRequestTokens } from './in-flight-tokens.js';

const req = (prompt: string, body?: Record<string, unknown>): SchedulingRequest => ({ ...request({ prompt }), ...(body ? { body } : {}) });

describe('estimateRequestTokens', () => {
  const cases: [string, SchedulingRequest, number][] = [
    ['input + 1.5x output', req('x'.repeat(40)), 10 + 15],
    ['output capped by max_tokens', req('x'.repeat(40), { max_tokens: 4 }), 10 + 4],
    ['output capped by max_completion_tokens', req('x'.repeat(40), { max_completion_tokens: 0 }), 10],
    ['a cap above the estimate changes nothing', req('x'.repeat(40), { max_tokens: 1000 }), 25],
    ['no prompt: 0, as llm-d', req(''), 0],
  ];
  for (const [name, r, want] of cases) test(name, () => assert.equal(estimateRequestTokens(r), want));
});

describe('concurrency-detector tokens mode', () => {
  test('a picked request adds its tokens to its endpoint until its response ends, once', () => {
    const d = new TokenConcurrencyDetector('c', 'tokens', 100, 100);
    const [a, b] = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build()];
    const ctx = context(req('x'.repeat(160))); // 40 + 60 tokens
    d.preRequest(ctx, a);
    assert.equal(d.saturation([a, b]), 100 / 200);
    assert.deepEqual(d.filter(ctx, [a, b]), [b], 'a is at its token limit');
    const other = context(req('x'.repeat(160)));
    d.preRequest(other, a);
    d.responseComplete(ctx, a);
    d.responseComplete(ctx, a);
    assert.equal(d.tokens.of(a.address), 100, 'taken back once: the other request still counts');
    d.responseComplete(other, a);
    assert.equal(d.saturation([a, b]), 0);
  });

  test('answered from another endpoint than the pick (Envoy down the fallback list), the pick gets its tokens back', () => {
    const d = new TokenConcurrencyDetector('c', 'tokens', 100, 1000);
    const [a, b] = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build()];
    const ctx = context(req('x'.repeat(160)));
    d.preRequest(ctx, a);
    d.responseComplete(ctx, b);
    assert.equal(d.tokens.of(a.address), 0);
    assert.equal(d.tokens.of(b.address), 0);
  });

  test('requests in flight do not count in tokens mode', () => {
    const d = new TokenConcurrencyDetector('c', 'tokens', 1, 100);
    const busy = endpoint('10.0.0.1').inFlight(5).build();
    assert.equal(d.saturation([busy], 5), 0);
    assert.equal(d.admits(busy), true);
  });
});

describe('concurrency-detector hybrid mode', () => {
  test("each endpoint's larger ratio, averaged: endpoints full on different dimensions are not masked", () => {
    const d = new TokenConcurrencyDetector('c', 'hybrid', 2, 100);
    const fullOnRequests = endpoint('10.0.0.1').inFlight(2).build();
    const fullOnTokens = endpoint('10.0.0.2').build();
    const idle = endpoint('10.0.0.3').build();
    d.preRequest(context(req('x'.repeat(160))), fullOnTokens);
    // Pool-wide ratios would be 2/6 requests and 100/300 tokens; hybrid sees two of three endpoints full.
    assert.equal(d.saturation([fullOnRequests, fullOnTokens, idle]), 2 / 3);
    assert.deepEqual(d.filter(context(), [fullOnRequests, fullOnTokens, idle]), [idle]);
  });

  test("flow control's own dispatches count on the request dimension, as in requests mode", () => {
    const d = new TokenConcurrencyDetector('c', 'hybrid', 2, 100);
    assert.equal(d.saturation([endpoint('10.0.0.1').build()], 2), 1);
  });
});

describe('concurrency-detector parameters', () => {
  const load = (params: string) =>
    loadEndpointPickerConfig(
      `apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\nfeatureGates: [flowControl]\nplugins:\n- type: concurrency-detector\n  parameters: ${params}\nflowControl:\n  saturationDetector: {pluginRef: concurrency-detector}\n`,
      { file: 'epp.yaml', registry: registerBuiltins() },
    );
  const detectorOf = (params: string): ConcurrencyDetector => {
    const source = load(params).flowControl!.detector;
    assert.ok(source.kind === 'concurrency');
    return source.detector;
  };

  test('requests (default): no token accounting, no per-request hooks', () => {
    const d = detectorOf('{maxConcurrency: 4}');
    assert.equal(d.mode, 'requests');
    assert.ok(!(d instanceof TokenConcurrencyDetector));
    assert.equal('preRequest' in d, false);
  });

  test('tokens and hybrid, with maxTokenConcurrency (default 1000000)', () => {
    const t = detectorOf('{concurrencyMode: tokens, maxTokenConcurrency: 5000}');
    assert.ok(t instanceof TokenConcurrencyDetector && t.mode === 'tokens' && t.maxTokenConcurrency === 5000);
    const h = detectorOf('{concurrencyMode: hybrid, maxConcurrency: 8}');
    assert.ok(h instanceof TokenConcurrencyDetector && h.mode === 'hybrid' && h.maxConcurrency === 8 && h.maxTokenConcurrency === DEFAULT_MAX_TOKEN_CONCURRENCY);
  });

  test("current llm-d's inFlightLoadProducerName loads, ignored with a warning", () => {
    const loaded = load('{concurrencyMode: hybrid, inFlightLoadProducerName: inflight-load-producer}');
    assert.ok(loaded.warnings.some((w) => /plugins\[0\] \(concurrency-detector\): parameters\.inFlightLoadProducerName is ignored: the detector counts in flight through its own pick hooks/.test(w)), JSON.stringify(loaded.warnings));
  });

  test('rejects an unknown mode and a bad token limit', () => {
    assert.throws(() => load('{concurrencyMode: bytes}'), /concurrencyMode/);
    assert.throws(() => load('{concurrencyMode: tokens, maxTokenConcurrency: 0}'), /maxTokenConcurrency/);
  });
});
