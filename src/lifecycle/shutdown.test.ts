import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../logger.js';
import { GracefulShutdown, type Drainable } from './shutdown.js';

/** A front door whose drain ends when the test says (or when it is cut), recording every call. */
function fakeTarget(inFlight: number): Drainable & { calls: string[]; finish(): void } {
  const calls: string[] = [];
  let finish = (): void => undefined;
  const drained = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    unit: 'requests',
    calls,
    finish: () => finish(),
    failReadiness: () => void calls.push('failReadiness'),
    drain: () => {
      calls.push('drain');
      return drained;
    },
    inFlight: () => inFlight,
    cut: () => {
      calls.push('cut');
      finish();
    },
  };
}

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Moves the fake clock on and lets the promises that were waiting on it run. */
async function advance(t: TestContext, ms: number): Promise<void> {
  t.mock.timers.tick(ms);
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

test('phases: readiness fails at once, the drain starts after the delay, and the shutdown ends when the drain does', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const target = fakeTarget(3);
  const log = recordingLog();
  const shutdown = new GracefulShutdown(target, { delayMs: 5000, drainTimeoutMs: 30_000 }, log);
  assert.equal(shutdown.phase, 'serving');
  const done = shutdown.run();
  assert.equal(shutdown.phase, 'not-ready');
  assert.deepEqual(target.calls, ['failReadiness'], 'readiness fails before anything else, and nothing drains yet');
  await advance(t, 4999);
  assert.deepEqual(target.calls, ['failReadiness'], 'still accepting one millisecond before the delay ends');
  await advance(t, 1);
  assert.equal(shutdown.phase, 'draining');
  assert.deepEqual(target.calls, ['failReadiness', 'drain']);
  await advance(t, 10_000);
  target.finish();
  const report = await done;
  assert.equal(shutdown.phase, 'stopped');
  assert.deepEqual(report, { outcome: 'drained', inFlightAtDrain: 3, cut: 0, elapsedMs: 15_000 });
  assert.deepEqual(target.calls, ['failReadiness', 'drain'], 'a drain that ends in time cuts nothing');
  assert.deepEqual(log.lines.map((l) => l.split(':')[0]), ['info shutting down', 'info draining', 'info drained'], 'each phase is logged at info');
});

test('the drain timeout cuts what is still in flight, and the shutdown still ends', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const target = fakeTarget(2);
  const log = recordingLog();
  const done = new GracefulShutdown(target, { delayMs: 1000, drainTimeoutMs: 2000 }, log).run();
  await advance(t, 1000);
  await advance(t, 1999);
  assert.deepEqual(target.calls, ['failReadiness', 'drain']);
  await advance(t, 1);
  assert.deepEqual(target.calls, ['failReadiness', 'drain', 'cut']);
  const report = await done;
  assert.deepEqual(report, { outcome: 'cut', inFlightAtDrain: 2, cut: 2, elapsedMs: 3000 });
  assert.ok(log.lines.some((l) => l.startsWith('warn drain timeout: 2s (--drain-timeout) passed')), log.lines.join('\n'));
});

test('a zero delay drains at once, and its log line says so rather than "accepted for 0"', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const target = fakeTarget(0);
  const log = recordingLog();
  const done = new GracefulShutdown(target, { delayMs: 0, drainTimeoutMs: 1000 }, log).run();
  await advance(t, 0);
  assert.deepEqual(target.calls, ['failReadiness', 'drain']);
  assert.ok(log.lines.some((l) => l.startsWith('info shutting down: readiness fails now; no delay (--shutdown-delay 0), so the drain starts at once')), log.lines.join('\n'));
  target.finish();
  assert.equal((await done).outcome, 'drained');
});

test('a zero drain timeout cuts at once, and its log line says so rather than "waiting up to 0"', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const target = fakeTarget(1);
  const log = recordingLog();
  const done = new GracefulShutdown(target, { delayMs: 0, drainTimeoutMs: 0 }, log).run();
  await advance(t, 0);
  await advance(t, 0);
  assert.deepEqual(target.calls, ['failReadiness', 'drain', 'cut']);
  assert.ok(log.lines.some((l) => l.startsWith('info draining: stopped accepting connections; no drain time (--drain-timeout 0): the requests in flight are cut')), log.lines.join('\n'));
  assert.equal((await done).outcome, 'cut');
});

test('a shutdown runs once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const target = fakeTarget(0);
  const shutdown = new GracefulShutdown(target, { delayMs: 0, drainTimeoutMs: 1000 }, recordingLog());
  const done = shutdown.run();
  await assert.rejects(shutdown.run(), /runs once/);
  await advance(t, 0);
  target.finish();
  await done;
});
