import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDefaultEndpointPickerConfig } from '../config/default-endpoint-picker-config.js';
import { registerBuiltins } from '../plugins/register-builtins.js';
import type { Endpoint } from '../datastore/endpoint.js';
import type { Plugin, SchedulingContext } from './plugin.js';
import { Scheduler } from './scheduler.js';
import type { ExtensionPoint, SchedulingTimer } from './scheduling-timer.js';
import { context, endpoints, request } from './test-fixtures.js';

class RecordingTimer implements SchedulingTimer {
  readonly calls: string[] = [];
  readonly picks: (string | undefined)[] = [];
  plugin(point: ExtensionPoint, plugin: Plugin, seconds: number): void {
    assert.ok(seconds >= 0 && seconds < 1, `${point} ${plugin.name}: ${seconds}`);
    this.calls.push(`${point}/${plugin.type}`);
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
