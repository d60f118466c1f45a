/** A pool's upstream policy: flag values and duration syntax, annotations over flags, and the config errors a bad value gets. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../api/config-issue.js';
import { inferencePool } from '../api/test-fixtures.js';
import { snapshot } from '../config/test-fixtures.js';
import { DEFAULT_OUTLIER_DETECTION, OUTLIER_SETTINGS } from './outlier-detection.js';
import { formatSetting, parseSetting, type SettingSpec } from './setting.js';
import { DEFAULT_UPSTREAM_TIMEOUTS, TIMEOUT_SETTINGS, headersTimeoutMs } from './timeouts.js';
import { UpstreamPolicies } from './upstream-policies.js';
import { DEFAULT_UPSTREAM_POLICY, poolUpstreamPolicy, type UpstreamPolicy } from './upstream-policy.js';

const spec = (name: string): SettingSpec => [...TIMEOUT_SETTINGS, ...OUTLIER_SETTINGS].find((s) => s.name === name)!;

describe('reading a value (the same for a flag and an annotation)', () => {
  const cases: { setting: string; text: string; want: number | RegExp }[] = [
    { setting: 'stream-headers-timeout', text: '30s', want: 30_000 },
    { setting: 'stream-headers-timeout', text: '1m30s', want: 90_000 },
    { setting: 'stream-headers-timeout', text: '250ms', want: 250 },
    { setting: 'stream-headers-timeout', text: '1.5s', want: 1500 },
    { setting: 'stream-headers-timeout', text: '2000', want: 2000 },
    { setting: 'response-headers-timeout', text: '10m', want: 600_000 },
    { setting: 'upstream-timeout', text: '0', want: 0 },
    { setting: 'stream-headers-timeout', text: '10 s', want: /must be a duration such as "500ms", "30s" or "10m" \(or whole milliseconds\), 0 to turn it off, got "10 s"/ },
    { setting: 'stream-headers-timeout', text: '-1s', want: /must be a duration/ },
    { setting: 'stream-headers-timeout', text: 'soon', want: /got "soon"/ },
    { setting: 'connect-timeout', text: '0', want: /at least 1ms, got "0"/ },
    // Node.js runs a timer past 2^31 - 1 ms after 1 ms: 600h cut every request at once.
    { setting: 'upstream-timeout', text: '596h', want: 596 * 3_600_000 },
    { setting: 'upstream-timeout', text: '600h', want: /must be at most 596h \(Node\.js keeps no timer past 24\.8 days\), got "600h"/ },
    { setting: 'outlier-max-ejection-time', text: '3000000000', want: /must be at most 596h/ },
    { setting: 'outlier-consecutive-gateway-failure', text: '2', want: 2 },
    { setting: 'outlier-consecutive-gateway-failure', text: '2.5', want: /must be a whole number, at least 0 \(0 turns it off\)/ },
    { setting: 'outlier-max-ejection-percent', text: '50', want: 50 },
    // The help prints the default as "10%": that spelling is accepted too.
    { setting: 'outlier-max-ejection-percent', text: '10%', want: 10 },
    { setting: 'outlier-max-ejection-percent', text: '10%%', want: /a whole percentage from 0 to 100 \(such as 10 or 10%\), got "10%%"/ },
    { setting: 'outlier-consecutive-5xx', text: '5%', want: /must be a whole number/ },
    { setting: 'outlier-max-ejection-percent', text: '150', want: /a whole percentage from 0 to 100 \(such as 10 or 10%\), got "150"/ },
    { setting: 'outlier-base-ejection-time', text: '45s', want: 45_000 },
  ];
  for (const c of cases) {
    test(`${c.setting} ${JSON.stringify(c.text)}`, () => {
      const r = parseSetting(spec(c.setting), c.text);
      if (typeof c.want === 'number') assert.deepEqual(r, { value: c.want });
      else assert.match('error' in r ? r.error : `value ${r.value}`, c.want);
    });
  }

  test('values read back in the unit they are written in', () => {
    assert.equal(formatSetting(spec('stream-headers-timeout'), 10_000), '10s');
    assert.equal(formatSetting(spec('response-headers-timeout'), 600_000), '10m');
    assert.equal(formatSetting(spec('outlier-interval'), 90_000), '1m30s');
    assert.equal(formatSetting(spec('upstream-timeout'), 0), 'off');
    assert.equal(formatSetting(spec('outlier-max-ejection-percent'), 10), '10%');
  });
});

describe('a pool\'s policy: its annotations over the flags', () => {
  const flags: UpstreamPolicy = { timeouts: { ...DEFAULT_UPSTREAM_TIMEOUTS, streamHeadersMs: 5000 }, outlierDetection: DEFAULT_OUTLIER_DETECTION };
  const cases: { name: string; annotations: Record<string, string>; timeouts?: Record<string, number>; outlier?: Record<string, number>; issues?: RegExp[] }[] = [
    { name: 'no annotations: the flags, as the same object', annotations: {}, timeouts: { streamHeadersMs: 5000, responseHeadersMs: 600_000, streamIdleMs: 300_000, upstreamMs: 0, connectMs: 2000 } },
    {
      name: 'each timeout annotation sets its own field',
      annotations: { 'infergate.io/stream-headers-timeout': '2s', 'infergate.io/response-headers-timeout': '20m', 'infergate.io/stream-idle-timeout': '45s', 'infergate.io/upstream-timeout': '1h', 'infergate.io/connect-timeout': '500ms' },
      timeouts: { streamHeadersMs: 2000, responseHeadersMs: 1_200_000, streamIdleMs: 45_000, upstreamMs: 3_600_000, connectMs: 500 },
    },
    {
      name: 'outlier detection annotations',
      annotations: { 'infergate.io/outlier-consecutive-gateway-failure': '1', 'infergate.io/outlier-max-ejection-percent': '50', 'infergate.io/outlier-base-ejection-time': '1m' },
      outlier: { consecutiveGatewayFailure: 1, maxEjectionPercent: 50, baseEjectionTimeMs: 60_000, consecutive5xx: 5 },
    },
    {
      name: 'a bad value is an issue naming the annotation; the others still apply',
      annotations: { 'infergate.io/stream-headers-timeout': '10 seconds', 'infergate.io/stream-idle-timeout': '1m' },
      timeouts: { streamHeadersMs: 5000, streamIdleMs: 60_000 },
      issues: [/^metadata\.annotations\.infergate\.io\/stream-headers-timeout: must be a duration .* got "10 seconds"$/],
    },
    // Warned about with every unknown annotation (src/config/known-annotations.test.ts).
    { name: 'a look-alike annotation changes nothing', annotations: { 'infergate.io/stream-header-timeout': '2s' }, timeouts: { streamHeadersMs: 5000 } },
    { name: 'other annotations are none of this', annotations: { 'infergate.io/endpoint-picker-config': 'epp', 'example.com/owner': 'me' }, timeouts: { streamHeadersMs: 5000 } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = poolUpstreamPolicy(inferencePool('p').annotate(c.annotations), flags);
      for (const [k, v] of Object.entries(c.timeouts ?? {})) assert.equal(r.policy.timeouts[k as keyof typeof r.policy.timeouts], v, k);
      for (const [k, v] of Object.entries(c.outlier ?? {})) assert.equal(r.policy.outlierDetection[k as keyof typeof r.policy.outlierDetection], v, k);
      const issues = r.issues.map((i) => `${i.field}: ${i.message}`);
      assert.equal(issues.length, c.issues?.length ?? 0, issues.join('\n'));
      c.issues?.forEach((re, i) => assert.match(issues[i]!, re));
      if (Object.keys(c.annotations).every((k) => !k.includes('timeout') && !k.includes('outlier'))) assert.equal(r.policy, flags);
    });
  }
});

describe('UpstreamPolicies', () => {
  const bad = inferencePool('slow').annotate({ 'infergate.io/stream-headers-timeout': 'fast' }).from('pools.yaml', 2);
  const good = inferencePool('quick').annotate({ 'infergate.io/stream-headers-timeout': '3s' });

  test('from files a bad annotation rejects the snapshot, naming file, pool and field', () => {
    const policies = new UpstreamPolicies(DEFAULT_UPSTREAM_POLICY);
    assert.throws(
      () => policies.prepare(snapshot(bad, good)),
      (e: unknown) => e instanceof ConfigError && /pools\.yaml \(document 2\) InferencePool default\/slow: field metadata\.annotations\.infergate\.io\/stream-headers-timeout: must be a duration/.test(e.message),
    );
  });

  test('from a live source it is a warning and the pool keeps the flag value; a pool without annotations gets the flags', () => {
    const policies = new UpstreamPolicies(DEFAULT_UPSTREAM_POLICY);
    const p = policies.prepare(snapshot(bad, good), true);
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0]!, /uses the flag's value until this is fixed/);
    p.commit();
    assert.equal(policies.forPool('default/slow').timeouts.streamHeadersMs, DEFAULT_UPSTREAM_TIMEOUTS.streamHeadersMs);
    assert.equal(policies.forPool('default/quick').timeouts.streamHeadersMs, 3000);
    assert.equal(policies.forPool('default/elsewhere'), DEFAULT_UPSTREAM_POLICY);
  });

  test('nothing changes before commit', () => {
    const policies = new UpstreamPolicies(DEFAULT_UPSTREAM_POLICY);
    policies.prepare(snapshot(good));
    assert.equal(policies.forPool('default/quick'), DEFAULT_UPSTREAM_POLICY);
  });
});

test('the header timeout of a request: short for a stream, long for a whole answer', () => {
  const cases: { streamed: boolean; want: number }[] = [
    { streamed: true, want: 10_000 },
    { streamed: false, want: 600_000 },
  ];
  for (const c of cases) assert.equal(headersTimeoutMs(DEFAULT_UPSTREAM_TIMEOUTS, c.streamed), c.want);
});
