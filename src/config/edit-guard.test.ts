/** EditGuard: safe changes apply at once; one that removes too much is held, reported, replaced or confirmed by time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { until } from '../../test/helpers/until.js';
import { createLogger } from '../logger.js';
import { EditGuard, editGuardFor, type EditGuardOptions } from './edit-guard.js';
import { baseModelRouteYaml, podYaml, poolYaml } from './manifests.js';
import type { ConfigSnapshot } from './snapshot.js';
import { snapshotOfFiles } from './test-fixtures.js';

const model = (name: string, ips: readonly string[]): string => [...ips.map((ip, i) => podYaml(`${name}-${i}`, ip, { app: name })), poolYaml(name, { app: name }, 8000), baseModelRouteYaml(name, `org/${name}`, [[name, 1]])].join('---\n');
const FULL = (): ConfigSnapshot => snapshotOfFiles({ 'a.yaml': model('gemma', ['10.0.0.1', '10.0.0.2']) });
const EMPTY = (): ConfigSnapshot => snapshotOfFiles({});
const NO_ROUTE = (): ConfigSnapshot => snapshotOfFiles({ 'a.yaml': [podYaml('gemma-0', '10.0.0.1', { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, 8000)].join('---\n') });

interface Harness {
  guard: EditGuard;
  applied: ConfigSnapshot[];
  lines: string[];
}

function harness(opts: Partial<EditGuardOptions> = {}): Harness {
  const applied: ConfigSnapshot[] = [];
  const lines: string[] = [];
  const guard = new EditGuard({
    apply: async (s) => {
      applied.push(s);
    },
    log: createLogger('debug', (l) => lines.push(l)),
    settlePeriodMs: 60_000,
    allowEmpty: false,
    rules: { maxEndpointLoss: 0.5, fileRemovals: true },
    ...opts,
  });
  return { guard, applied, lines };
}

test('the first snapshot and safe changes apply at once; nothing to report', async () => {
  const h = harness();
  const first = FULL();
  await h.guard.offer(first);
  const second = FULL();
  await h.guard.offer(second);
  assert.deepEqual(h.applied, [first, second]);
  assert.equal(h.guard.inForce, second);
  assert.equal(h.guard.report(), undefined);
  h.guard.close();
});

test('an emptying change is held, logged with how to confirm, and reported for /readyz', async () => {
  const h = harness();
  const first = FULL();
  await h.guard.offer(first);
  await h.guard.offer(EMPTY());
  assert.deepEqual(h.applied, [first], 'the emptying change must not apply');
  assert.equal(h.guard.inForce, first);
  const warn = h.lines.find((l) => / WARN .*configuration change held back/.test(l));
  assert.ok(warn, h.lines.join('\n'));
  assert.match(warn, /leaves the configuration empty/);
  assert.match(warn, /--config-settle-period 60000 ms/);
  assert.match(warn, /--allow-empty-config/);
  const held = h.guard.report()?.held;
  assert.ok(held);
  assert.match(held.reasons[0]!, /leaves the configuration empty \(4 objects -> 0\)/);
  assert.deepEqual(held.change.pools, [1, 0]);
  assert.equal(Date.parse(held.applies_at) - Date.parse(held.held_since), 60_000);
  h.guard.close();
});

test('a held change applies once it has stayed in place for the settle period', async () => {
  const h = harness({ settlePeriodMs: 80 });
  await h.guard.offer(FULL());
  const empty = EMPTY();
  await h.guard.offer(empty);
  assert.equal(h.applied.length, 1);
  await until(() => h.applied.length === 2, 'the held change to apply');
  assert.equal(h.applied[1], empty);
  assert.equal(h.guard.inForce, empty);
  assert.equal(h.guard.report(), undefined);
  assert.ok(h.lines.some((l) => / WARN .*applying the configuration change held back since .*stayed in place for 80 ms/.test(l)), h.lines.join('\n'));
  h.guard.close();
});

test('a newer safe change replaces the held one and applies at once; the held one never applies', async () => {
  const h = harness({ settlePeriodMs: 80 });
  const first = FULL();
  await h.guard.offer(first);
  await h.guard.offer(EMPTY());
  const restored = FULL();
  await h.guard.offer(restored);
  assert.deepEqual(h.applied, [first, restored]);
  assert.equal(h.guard.report(), undefined);
  await delay(200);
  assert.deepEqual(h.applied, [first, restored], 'the replaced change must not apply when its settle period ends');
  h.guard.close();
});

test('a newer change removing the same keeps the clock; one removing something else restarts it; the newest is what applies', async () => {
  const h = harness();
  await h.guard.offer(FULL());
  await h.guard.offer(EMPTY());
  const since = h.guard.report()!.held!.held_since;
  await delay(5);
  const sameAgain = EMPTY();
  await h.guard.offer(sameAgain);
  assert.equal(h.guard.report()!.held!.held_since, since, 'the same removal keeps its clock');
  assert.equal(h.guard.held, sameAgain, 'the newest candidate is the one held');
  await delay(5);
  await h.guard.offer(NO_ROUTE());
  const other = h.guard.report()!.held!;
  assert.notEqual(other.held_since, since, 'a different removal starts the clock again');
  assert.match(other.reasons.join(), /removes every HTTPRoute/);
  assert.equal(h.applied.length, 1);
  h.guard.close();
});

test('allowEmpty (--allow-empty-config) applies at once, with a warning', async () => {
  const h = harness({ allowEmpty: true });
  await h.guard.offer(FULL());
  const empty = EMPTY();
  await h.guard.offer(empty);
  assert.equal(h.guard.inForce, empty);
  assert.equal(h.guard.report(), undefined);
  assert.ok(h.lines.some((l) => / WARN .*applying a configuration change at once \(--allow-empty-config\): it leaves the configuration empty/.test(l)), h.lines.join('\n'));
});

test('a change the gateway refuses rejects the offer, is reported, and the one in force stays', async () => {
  const h = harness();
  const first = FULL();
  await h.guard.offer(first);
  const failing = new EditGuard({ apply: async () => Promise.reject(new Error('bad picker config')), log: createLogger('silent'), settlePeriodMs: 1000, allowEmpty: false, rules: {} });
  await assert.rejects(failing.offer(first), /bad picker config/);
  assert.equal(failing.inForce, undefined);
  assert.match(failing.report()?.rejected?.message ?? '', /bad picker config/);
  // A source's own rejection (a YAML error) is reported the same way, and cleared by the next good change.
  h.guard.rejected('a.yaml: YAML syntax error at line 3');
  assert.match(h.guard.report()?.rejected?.message ?? '', /line 3/);
  await h.guard.offer(FULL());
  assert.equal(h.guard.report(), undefined);
});

test('a rejected change drops the held one: the file may have been restored in the same edit, so the settle timer must not confirm it', async () => {
  const h = harness({ settlePeriodMs: 80 });
  const first = FULL();
  await h.guard.offer(first);
  await h.guard.offer(EMPTY());
  assert.ok(h.guard.held);
  h.guard.rejected('b.yaml: YAML syntax error at line 2');
  assert.equal(h.guard.held, undefined);
  const report = h.guard.report();
  assert.equal(report?.held, undefined, 'readyz must not promise that the held change applies');
  assert.match(report?.rejected?.message ?? '', /line 2/);
  assert.ok(h.lines.some((l) => / WARN .*held back since .* will not apply: a newer change was rejected.*leaves the configuration empty/.test(l)), h.lines.join('\n'));
  await delay(200);
  assert.deepEqual(h.applied, [first], 'the dropped change must not apply when its settle period ends');
  // The next change the source can build is judged afresh: still emptying, it is held again, with a new clock.
  await h.guard.offer(EMPTY());
  assert.ok(h.guard.held);
  h.guard.close();
});

test('close() drops a held change: it never applies to a gateway shutting down', async () => {
  const h = harness({ settlePeriodMs: 50 });
  await h.guard.offer(FULL());
  await h.guard.offer(EMPTY());
  h.guard.close();
  await delay(150);
  assert.equal(h.applied.length, 1);
});

test('editGuardFor: files get the endpoint and file rules, the Kubernetes API only the emptied, every-pool and every-route rules', async () => {
  const fourPods = snapshotOfFiles({ 'a.yaml': model('gemma', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) });
  const onePod = snapshotOfFiles({ 'a.yaml': model('gemma', ['10.0.0.1']) });
  for (const [source, heldWant] of [
    ['files', true],
    ['kubernetes', false],
  ] as const) {
    const applied: ConfigSnapshot[] = [];
    const guard = editGuardFor(source, {}, createLogger('silent'), async (s) => {
      applied.push(s);
    });
    await guard.offer(fourPods);
    await guard.offer(onePod);
    assert.equal(guard.held !== undefined, heldWant, `${source}: losing 3 of 4 endpoints held`);
    await guard.offer(EMPTY());
    assert.ok(guard.held, `${source}: an emptied configuration is held`);
    assert.equal(guard.report()?.held?.applies_at !== undefined, true);
    guard.close();
  }
});

test('an endpoint loss held back says which --max-endpoint-loss-percent would allow it, in the log and /readyz', async () => {
  const four = snapshotOfFiles({ 'a.yaml': model('gemma', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) });
  const h = harness();
  await h.guard.offer(four);
  await h.guard.offer(snapshotOfFiles({ 'a.yaml': model('gemma', ['10.0.0.1']) }));
  const warn = h.lines.find((l) => / WARN .*configuration change held back/.test(l));
  assert.ok(warn, h.lines.join('\n'));
  assert.match(warn, /more than the 50% allowed at once \(--max-endpoint-loss-percent 50\)/);
  assert.match(warn, /to apply it now, run with --max-endpoint-loss-percent 75 \(or more\) to allow this endpoint loss, or with --allow-empty-config;/);
  assert.match(h.guard.report()!.held!.to_confirm, /--max-endpoint-loss-percent 75 \(or more\) .*--allow-empty-config/);
  h.guard.close();
});

test('every endpoint lost: the value that allows it is 100, the flag\'s highest, not "100 or more"', async () => {
  const h = harness();
  await h.guard.offer(snapshotOfFiles({ 'a.yaml': model('gemma', ['10.0.0.1', '10.0.0.2']) }));
  await h.guard.offer(snapshotOfFiles({ 'a.yaml': model('gemma', []) }));
  const toConfirm = h.guard.report()?.held?.to_confirm ?? '';
  assert.match(toConfirm, /--max-endpoint-loss-percent 100 to allow this endpoint loss/);
  assert.doesNotMatch(toConfirm, /100 or more|100 \(or more\)/);
  h.guard.close();
});

test('editGuardFor: a routed pool left without endpoints (a selector typo) is held with files, naming the pool; not with Kubernetes; --allow-empty-config applies it', async () => {
  const two = (phiSelector: string): ConfigSnapshot =>
    snapshotOfFiles({
      'a.yaml': model('gemma', ['10.0.0.1', '10.0.0.2']),
      'b.yaml': [podYaml('phi-0', '10.0.0.3', { app: 'phi' }), podYaml('phi-1', '10.0.0.4', { app: 'phi' }), poolYaml('phi', { app: phiSelector }, 8000), baseModelRouteYaml('phi', 'org/phi', [['phi', 1]])].join('---\n'),
    });
  for (const [source, allowEmptyConfig, heldWant] of [
    ['files', false, true],
    ['files', true, false],
    ['kubernetes', false, false],
  ] as const) {
    const guard = editGuardFor(source, { allowEmptyConfig }, createLogger('silent'), async () => {});
    await guard.offer(two('phi'));
    const typo = two('phii');
    await guard.offer(typo);
    assert.equal(guard.held !== undefined, heldWant, `${source}, allowEmptyConfig ${allowEmptyConfig}: held`);
    if (heldWant) {
      const held = guard.report()!.held!;
      assert.deepEqual(held.reasons, ['it leaves InferencePool default/phi with no routable endpoints (2 -> 0): no pod matches its selector app=phii']);
      assert.match(held.to_confirm, /to apply such changes at once, run with --allow-empty-config$/);
    } else assert.equal(guard.inForce, typo);
    guard.close();
  }
});

test('Kubernetes: a routed pool left without endpoints right after the watches reconnected is held; the same change at any other time applies', async () => {
  const withPods = snapshotOfFiles({ 'a.yaml': model('gemma', ['10.0.0.1', '10.0.0.2']) });
  // The pods' list came back empty before the pools' and routes' lists: the pool is still routed, with nothing.
  const podsGone = snapshotOfFiles({ 'a.yaml': [poolYaml('gemma', { app: 'gemma' }, 8000), baseModelRouteYaml('gemma', 'org/gemma', [['gemma', 1]])].join('---\n') });
  for (const afterReconnect of [true, false]) {
    const guard = editGuardFor('kubernetes', {}, createLogger('silent'), async () => {});
    await guard.offer(withPods);
    await guard.offer(podsGone, { afterReconnect });
    assert.equal(guard.held !== undefined, afterReconnect, `afterReconnect ${afterReconnect}: held`);
    if (afterReconnect) {
      assert.deepEqual(guard.report()!.held!.reasons, ['it leaves InferencePool default/gemma with no routable endpoints (2 -> 0): no pod matches its selector app=gemma']);
      // The pods' list completing puts back what is in force: nothing is held any more.
      await guard.offer(withPods, { afterReconnect });
      assert.equal(guard.held, undefined);
      assert.equal(guard.inForce, withPods);
    } else assert.equal(guard.inForce, podsGone);
    guard.close();
  }
});
