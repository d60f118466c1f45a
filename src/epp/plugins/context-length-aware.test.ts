/** context-length-aware: scores (and with enableFiltering keeps) pods by their "min-max" token range label. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { type ContextLengthAware, parseContextRange, rangeScore } from './context-length-aware.js';
import { registerBuiltins } from './register-builtins.js';

const LABEL = 'llm-d.ai/context-length-range';
const make = (params: Record<string, unknown> = {}) => registerBuiltins().create('context-length-aware', 'clen', params) as ContextLengthAware;
/** A request of `tokens` tokens at 4 characters each. */
const ofTokens = (tokens: number) => context(request({ prompt: 'abcd'.repeat(tokens) }));
const pods = (...ranges: (string | undefined)[]): Endpoint[] => ranges.map((r, i) => endpoint(`10.0.0.${i + 1}`).labels(r === undefined ? {} : { [LABEL]: r }).build());
const rounded = (xs: ArrayLike<number>) => Array.from(xs, (x) => Math.round(x * 1e4) / 1e4);

describe('parseContextRange', () => {
  const cases: [string, ReturnType<typeof parseContextRange>][] = [
    ['0-2048', { min: 0, max: 2048 }],
    [' 2048 - 8192 ', { min: 2048, max: 8192 }],
    ['4096-4096', { min: 4096, max: 4096 }],
    ['8192-2048', undefined],
    ['2048', undefined],
    ['0-2k', undefined],
    ['-5-10', undefined],
    ['', undefined],
  ];
  for (const [label, want] of cases) test(JSON.stringify(label), () => assert.deepEqual(parseContextRange(label), want));
});

describe('context-length-aware scores', () => {
  test('in range beats out of range; the narrower range and the one with more room left win', () => {
    // 1000 tokens: in 0-2048 and 0-32768, out of 2048-8192 (1048 below it)
    const s = rounded(make().score(ofTokens(1000), pods('0-2048', '0-32768', '2048-8192')));
    assert.deepEqual(s, [rounded([0.3 + 0.7 * (0.7 / 1.2048 + (0.3 * 1048) / 2048)])[0], rounded([0.3 + 0.7 * (0.7 / 4.2768 + (0.3 * 31768) / 32768)])[0], rounded([0.3 / 2.048])[0]]);
    assert.ok((s[0] as number) > (s[1] as number) && (s[1] as number) > 0.3 && (s[2] as number) < 0.3);
  });

  test('out of every range: the nearest range scores highest (9000 tokens prefers max 8192 over max 2048)', () => {
    const [near, far] = Array.from(make().score(ofTokens(9000), pods('0-8192', '0-2048')));
    assert.ok((near as number) > (far as number) && (near as number) < 0.3);
  });

  test('unlabelled 0.5, a malformed label 0, a one-value range holding the request 1', () => {
    assert.deepEqual(Array.from(make().score(ofTokens(100), pods(undefined, 'short', '100-100'))), [0.5, 0, 1]);
  });

  test('another label by the label parameter', () => {
    const eps = [endpoint('10.0.0.1').labels({ 'example.com/ctx': '0-10' }).build()];
    assert.deepEqual(Array.from(make({ label: 'example.com/ctx' }).score(ofTokens(5), eps)), [rangeScore(5, { min: 0, max: 10 })]);
  });

  test('the length is the prompt at 4 characters a token', () => {
    // 4097 characters: 1025 tokens, past a 0-1024 range
    const s = make().score(context(request({ prompt: 'x'.repeat(4097) })), pods('0-1024'));
    assert.ok((s[0] as number) < 0.3);
  });
});

describe('context-length-aware filters', () => {
  test('off by default: keeps every candidate', () => {
    const eps = pods('0-10', '20-30');
    assert.equal(make().filter(ofTokens(100), eps), eps);
  });

  test('enableFiltering: keeps unlabelled pods and ranges holding the request; drops others and malformed labels', () => {
    const eps = pods('0-2048', '2048-8192', undefined, 'bad');
    const kept = make({ enableFiltering: true }).filter(ofTokens(3000), eps);
    assert.deepEqual(kept, [eps[1], eps[2]]);
  });

  test('an empty result says why', () => {
    const f = make({ enableFiltering: true });
    assert.deepEqual(f.filter(ofTokens(3000), pods('0-2048')), []);
    assert.match(f.whyEmpty(ofTokens(3000)), /the request's ~3000 tokens \(4 characters a token\) are in no candidate's llm-d\.ai\/context-length-range range/);
  });
});

test('parameters by llm-d names; an empty label refused', () => {
  const p = make({ label: 'x/y', enableFiltering: true });
  assert.deepEqual([p.label, p.enableFiltering], ['x/y', true]);
  assert.deepEqual([make().label, make().enableFiltering], [LABEL, false]);
  assert.throws(() => make({ label: '' }), /parameters\.label: must name the pod label/);
  assert.throws(() => make({ enableFilterng: true }), /unknown parameter \(did you mean enableFiltering\?\)/);
});
