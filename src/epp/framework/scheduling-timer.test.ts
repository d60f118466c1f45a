import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDefaultEndpointPickerConfig } from '../config/default-endpoint-picker-config.js';
import { registerBuiltins } from '../plugins/register-builtins.js';
import type { Endpoint } from '../datastore/endpoint.js';
import type { Plugin, SchedulingContext } from './plugin.js';
import { Scheduler } from './scheduler.js';
import type { DurationSink, ExtensionPoint, SchedulingTimer } from './scheduling-timer.js';
import { context, endpoints, request } from './test-fixtures.js';

class RecordingTimer implements SchedulingTimer {
  readonly calls: string[] = [];
  readonly picks: (string | undefined)[] = [];
  /** How many times each (extension point, plugin) was asked for its sink. */
  readonly asked = new Map<string, number>();
  pluginTimer(point: ExtensionPoint, plugin: Plugin): DurationSink {
    const key = `${point}/${plugin.type}/${plugin.name}`;
    this.asked.set(key, (this.asked.get(key) ?? 0) + 1);
    return {
      observe: (seconds) => {
        assert.ok(seconds >= 0 && seconds < 1, `${point} ${plugin.name}: ${seconds}`);
        this.calls.push(`${point}/${plugin.type}`);
      },
    };
  }
  scheduled(_ctx: SchedulingContext, picked: Endpoint | undefined, seconds: number): void {
    assert.ok(seconds >= 0 && seconds < 1);
    this.picks.push(picked?.address);
  }
}

test('with a timer, the default profile reports every plugin call by extension point and each schedule once', () => {
  const scheduler = new Scheduler(loadDefaultEndpointPickerConfig(registerBuiltins()).schedulerConfig);
  const timer = new RecordingTimer();
  scheduler.timer = timer;
  const eps = endpoints(3, (b) => b.serves('llama'));
  const r = scheduler.schedule(context(request({ model: 'llama', prompt: 'x'.repeat(200) })), eps);
  assert.deepEqual(timer.picks, [r.endpoint?.address]);
  const points = new Set(timer.calls.map((c) => c.split('/')[0]));
  for (const p of ['ProfilePicker', 'Scorer', 'Picker', 'PreRequest', 'ProcessProfilesResults']) assert.ok(points.has(p), `${p} in ${timer.calls.join(', ')}`);
  assert.ok(timer.calls.includes('Scorer/prefix-cache-scorer') && timer.calls.includes('Scorer/queue-scorer'), timer.calls.join(', '));
});

test('a failed schedule is reported with no pick; without a timer nothing is called', () => {
  const scheduler = new Scheduler(loadDefaultEndpointPickerConfig(registerBuiltins()).schedulerConfig);
  const timer = new RecordingTimer();
  scheduler.timer = timer;
  scheduler.schedule(context(request({ model: 'llama' })), []);
  assert.deepEqual(timer.picks, [undefined]);
  scheduler.timer = undefined;
  scheduler.schedule(context(request({ model: 'llama' })), endpoints(2));
  assert.equal(timer.picks.length, 1);
});

test('the scheduler asks its timer for each plugin sink once, however many schedules it times, and again for a new timer', () => {
  const scheduler = new Scheduler(loadDefaultEndpointPickerConfig(registerBuiltins()).schedulerConfig);
  const timer = new RecordingTimer();
  scheduler.timer = timer;
  const eps = endpoints(3, (b) => b.serves('llama'));
  for (let i = 0; i < 3; i++) scheduler.schedule(context(request({ model: 'llama', prompt: `p${i}`.repeat(100) })), eps);
  assert.deepEqual([...timer.asked.values()].filter((n) => n !== 1), [], [...timer.asked].join(', '));
  // Every call of every schedule is still reported: three schedules, each plugin call once per schedule.
  assert.equal(timer.calls.length % 3, 0);
  assert.equal(timer.calls.filter((c) => c === 'Scorer/queue-scorer').length, 3);
  assert.equal(timer.calls.filter((c) => c === 'ProcessProfilesResults/' + scheduler.config.handler.type).length, 3);
  const other = new RecordingTimer();
  scheduler.timer = other;
  scheduler.schedule(context(request({ model: 'llama' })), eps);
  assert.ok(other.asked.size > 0 && other.calls.includes('Scorer/queue-scorer'));
  assert.equal(timer.calls.filter((c) => c === 'Scorer/queue-scorer').length, 3, 'the old timer hears nothing more');
});

test('a timed schedule says when its last lap ended, on the performance.now() clock; an untimed one does not', () => {
  const scheduler = new Scheduler(loadDefaultEndpointPickerConfig(registerBuiltins()).schedulerConfig);
  const eps = endpoints(2, (b) => b.serves('llama'));
  assert.equal(scheduler.schedule(context(request({ model: 'llama' })), eps).timedUntil, undefined);
  scheduler.timer = new RecordingTimer();
  const before = performance.now();
  const r = scheduler.schedule(context(request({ model: 'llama' })), eps);
  const after = performance.now();
  assert.ok(r.timedUntil !== undefined && r.timedUntil >= before && r.timedUntil <= after, `${before} <= ${r.timedUntil} <= ${after}`);
});
