/** FailOpen / FailClose when infergate's own scheduler fails; a filter keeping nothing is not a failure. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inferencePool } from '../api/test-fixtures.js';
import { GatewayError } from '../errors.js';
import { context, endpoints } from './framework/test-fixtures.js';
import { Scheduler } from './framework/scheduler.js';
import { loadEndpointPickerConfig } from './config/load-endpoint-picker-config.js';
import { registerBuiltins } from './plugins/register-builtins.js';
import { failureModeOf, scheduleWithFailureMode, type PickerFailure } from './failure-mode.js';

const CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: queue-scorer
`;

function scheduler(fail?: unknown): Scheduler {
  const s = new Scheduler(loadEndpointPickerConfig(CONFIG, { file: 'test.yaml', registry: registerBuiltins(), implicitServedModelFilter: false }).schedulerConfig);
  if (fail !== undefined) {
    s.schedule = () => {
      throw fail;
    };
  }
  return s;
}

const poolWith = (mode?: 'FailOpen' | 'FailClose') => {
  const p = inferencePool('gemma');
  if (mode) p.picker('epp', mode);
  return { key: 'default/gemma', pool: p };
};

describe('scheduleWithFailureMode', () => {
  test('failureMode defaults to FailClose, with or without a ref (GIE\'s default)', () => {
    assert.equal(failureModeOf(poolWith().pool), 'FailClose');
    assert.equal(failureModeOf(poolWith('FailOpen').pool), 'FailOpen');
    const ref = inferencePool('x');
    ref.endpointPickerRef = { kind: 'Service', name: 'epp', failureMode: 'FailClose' };
    assert.equal(failureModeOf(ref), 'FailClose');
  });

  test('a scheduler that works is passed through, whatever the mode', () => {
    const eps = endpoints(3, (b, i) => b.waiting(i === 1 ? 0 : 5));
    for (const mode of ['FailOpen', 'FailClose'] as const) {
      const out = scheduleWithFailureMode(scheduler(), context(), eps, {}, poolWith(mode));
      assert.equal(out.endpoint, eps[1]);
    }
  });

  test('FailOpen: a failing scheduler sends the request to one of the candidates, and says so', () => {
    const eps = endpoints(3);
    const told: PickerFailure[] = [];
    const seen = new Set<string>();
    for (const r of [0, 0.5, 0.99]) {
      const out = scheduleWithFailureMode(scheduler(new TypeError('boom')), context(undefined, () => r), eps, {}, poolWith('FailOpen'), { pickerFailed: (f) => told.push(f) });
      assert.ok(out.endpoint && eps.includes(out.endpoint));
      assert.equal(out.results.size, 0, 'no profile ran');
      seen.add(out.endpoint.address);
    }
    assert.equal(seen.size, 3, 'at random across the candidates');
    assert.equal(told.length, 3);
    assert.equal(told[0]!.mode, 'FailOpen');
    assert.equal(told[0]!.pool, 'default/gemma');
    assert.ok(told[0]!.endpoint);
  });

  test('FailClose: 503 endpoint_picker_unavailable naming the pool, the error and the way out', () => {
    const told: PickerFailure[] = [];
    assert.throws(
      () => scheduleWithFailureMode(scheduler(new Error('prefix index corrupt')), context(), endpoints(2), {}, poolWith('FailClose'), { pickerFailed: (f) => told.push(f) }),
      (e: unknown) =>
        e instanceof GatewayError &&
        e.status === 503 &&
        e.code === 'endpoint_picker_unavailable' &&
        /InferencePool default\/gemma failed \(prefix index corrupt\).*failureMode is FailClose.*set failureMode: FailOpen/.test(e.message),
    );
    assert.equal(told.length, 1);
    assert.equal(told[0]!.endpoint, undefined);
  });

  test('no ref at all is FailClose', () => {
    assert.throws(() => scheduleWithFailureMode(scheduler(new Error('x')), context(), endpoints(2), {}, poolWith()), /failureMode is FailClose/);
  });

  test('a GatewayError from the scheduler is its answer, not a failure: passed on in either mode', () => {
    const answer = new GatewayError('request_shed', 'shed');
    for (const mode of ['FailOpen', 'FailClose'] as const) {
      assert.throws(() => scheduleWithFailureMode(scheduler(answer), context(), endpoints(2), {}, poolWith(mode)), (e) => e === answer);
    }
  });

  test('a filter that keeps nothing is a decision: no endpoint, no failure, in either mode', () => {
    const s = new Scheduler(
      loadEndpointPickerConfig(
        `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: header-based-testing-filter
`,
        { file: 'pin.yaml', registry: registerBuiltins(), implicitServedModelFilter: false },
      ).schedulerConfig,
    );
    const told: PickerFailure[] = [];
    const out = scheduleWithFailureMode(s, context(), endpoints(2), {}, poolWith('FailOpen'), { pickerFailed: (f) => told.push(f) });
    assert.equal(out.endpoint, undefined);
    assert.equal(out.emptiedBy?.filter.type, 'header-based-testing-filter');
    assert.equal(told.length, 0);
  });
});
