/** assessEdit: which changes are held back (emptied, every pool, every route, most endpoints, a whole file), table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseModelRouteYaml, podYaml, poolYaml } from './manifests.js';
import { assessEdit, type EditRules } from './edit-risk.js';
import type { ConfigSnapshot } from './snapshot.js';
import { snapshotOfFiles } from './test-fixtures.js';

const FILES: EditRules = { maxEndpointLoss: 0.5, fileRemovals: true, poolsEmptied: true };

/** One model: `n` ready pods (the first `notReady` of them not Ready), a pool on port 8000 and a route. */
function model(name: string, ips: readonly string[], opts: { notReady?: number; route?: boolean; pool?: boolean; selector?: string } = {}): string {
  const pods = ips.map((ip, i) => podYaml(`${name}-${i}`, ip, { app: name }, { ready: i >= (opts.notReady ?? 0) }));
  const pool = opts.pool === false ? [] : [poolYaml(name, { app: opts.selector ?? name }, 8000)];
  const route = opts.route === false ? [] : [baseModelRouteYaml(name, `org/${name}`, [[name, 1]])];
  return [...pods, ...pool, ...route].join('---\n');
}

const FOUR = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
const BASE = { 'a.yaml': model('gemma', FOUR) };
const TWO_FILES = { 'a.yaml': model('gemma', FOUR.slice(0, 2)), 'b.yaml': model('qwen', FOUR.slice(2)) };

const cases: { name: string; before: Record<string, string>; after: Record<string, string>; rules?: EditRules; want: RegExp[] }[] = [
  { name: 'no change', before: BASE, after: BASE, want: [] },
  { name: 'a pod added', before: BASE, after: { 'a.yaml': model('gemma', [...FOUR, '10.0.0.5']) }, want: [] },
  { name: 'the only file deleted', before: BASE, after: {}, want: [/leaves the configuration empty \(6 objects -> 0\)/, /every object declared in a\.yaml \(6\): the file was deleted/] },
  { name: 'every pool removed, pods and routes stay', before: BASE, after: { 'a.yaml': model('gemma', FOUR, { pool: false }) }, want: [/removes every InferencePool \(1 -> 0\)/, /takes away 4 of 4 routable endpoints \(100%\)/] },
  { name: 'every route removed: the pool is reachable no more', before: BASE, after: { 'a.yaml': model('gemma', FOUR, { route: false }) }, want: [/removes every HTTPRoute \(1 -> 0\)/, /takes away 4 of 4 routable endpoints/] },
  { name: 'half the endpoints removed: not more than 50%', before: BASE, after: { 'a.yaml': model('gemma', FOUR.slice(0, 2)) }, want: [] },
  { name: 'three of four endpoints removed', before: BASE, after: { 'a.yaml': model('gemma', FOUR.slice(0, 1)) }, want: [/takes away 3 of 4 routable endpoints \(75%\), more than the 50% allowed at once \(--max-endpoint-loss-percent 50\)/] },
  { name: 'three of four pods no longer Ready', before: BASE, after: { 'a.yaml': model('gemma', FOUR, { notReady: 3 }) }, want: [/takes away 3 of 4/] },
  { name: 'every pod replaced by one with another IP: no loss', before: BASE, after: { 'a.yaml': model('gemma', ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4']) }, want: [] },
  { name: 'endpoint rule off (Kubernetes)', before: BASE, after: { 'a.yaml': model('gemma', FOUR.slice(0, 1)) }, rules: {}, want: [] },
  { name: 'endpoint rule at 0%: any loss is held', before: BASE, after: { 'a.yaml': model('gemma', FOUR.slice(0, 3)) }, rules: { maxEndpointLoss: 0 }, want: [/takes away 1 of 4/] },
  { name: 'one of two files deleted', before: TWO_FILES, after: { 'a.yaml': TWO_FILES['a.yaml'] }, want: [/every object declared in b\.yaml \(4\)/] },
  { name: 'one of two files deleted, file rule off', before: TWO_FILES, after: { 'a.yaml': TWO_FILES['a.yaml'] }, rules: { maxEndpointLoss: 0.5 }, want: [] },
  { name: "a file's objects moved into another file", before: TWO_FILES, after: { 'a.yaml': `${TWO_FILES['a.yaml']}---\n${TWO_FILES['b.yaml']}` }, want: [] },
  { name: 'a pool no route sends to loses its pods: not routable, not counted', before: { 'a.yaml': model('gemma', FOUR, { route: false }) }, after: { 'a.yaml': model('gemma', [], { route: false }) }, want: [] },
  { name: 'a selector typo leaves one of two pools without endpoints (2 of 4, not more than 50%)', before: TWO_FILES, after: { ...TWO_FILES, 'b.yaml': model('qwen', FOUR.slice(2), { selector: 'qwne' }) }, want: [/leaves InferencePool default\/qwen with no routable endpoints \(2 -> 0\): no pod matches its selector app=qwne$/] },
  { name: "every pod of one pool no longer Ready", before: TWO_FILES, after: { ...TWO_FILES, 'b.yaml': model('qwen', FOUR.slice(2), { notReady: 2 }) }, want: [/leaves InferencePool default\/qwen with no routable endpoints \(2 -> 0\): none of the 2 pods it selects can serve \(pod is not Ready\)/] },
  { name: 'one pool emptied and most endpoints gone: both said', before: { 'a.yaml': model('gemma', FOUR.slice(0, 1)), 'b.yaml': model('qwen', FOUR.slice(1)) }, after: { 'a.yaml': model('gemma', FOUR.slice(0, 1)), 'b.yaml': model('qwen', []) }, want: [/takes away 3 of 4/, /leaves InferencePool default\/qwen with no routable endpoints \(3 -> 0\): no pod matches/, ] },
  { name: 'a pool emptied, pool rule off (Kubernetes)', before: TWO_FILES, after: { ...TWO_FILES, 'b.yaml': model('qwen', FOUR.slice(2), { selector: 'qwne' }) }, rules: {}, want: [] },
  { name: 'a pool that had no endpoints still has none', before: { ...TWO_FILES, 'b.yaml': model('qwen', []) }, after: { ...TWO_FILES, 'b.yaml': model('qwen', [], { selector: 'qwne' }) }, want: [] },
  { name: 'nothing in force yet', before: {}, after: BASE, want: [] },
  { name: 'empty stays empty', before: {}, after: {}, want: [] },
];

for (const c of cases) {
  test(`assessEdit: ${c.name}`, () => {
    const risk = assessEdit(snapshotOfFiles(c.before), snapshotOfFiles(c.after), c.rules ?? FILES);
    assert.equal(risk.reasons.length, c.want.length, risk.reasons.join('\n'));
    c.want.forEach((re, i) => assert.match(risk.reasons[i]!, re));
  });
}

test('assessEdit counts what changes, for logs and /readyz', () => {
  const risk = assessEdit(snapshotOfFiles(TWO_FILES), snapshotOfFiles({ 'a.yaml': TWO_FILES['a.yaml'] }), FILES);
  assert.deepEqual(risk.counts, { objects: [8, 4], pools: [2, 1], routes: [2, 1], endpoints: [4, 2] });
});

test('assessEdit gives the --max-endpoint-loss-percent that would let an endpoint loss through, only when that rule holds it', () => {
  const three = snapshotOfFiles({ 'a.yaml': model('gemma', FOUR.slice(0, 3)) });
  const cases: [before: ConfigSnapshot, after: ConfigSnapshot, rules: EditRules, want: number | undefined][] = [
    [snapshotOfFiles(BASE), snapshotOfFiles({ 'a.yaml': model('gemma', FOUR.slice(0, 1)) }), FILES, 75],
    [three, snapshotOfFiles({ 'a.yaml': model('gemma', FOUR.slice(0, 1)) }), FILES, 67],
    [three, snapshotOfFiles({ 'a.yaml': model('gemma', FOUR.slice(0, 2)) }), { maxEndpointLoss: 0.3 }, 34],
    [snapshotOfFiles(BASE), snapshotOfFiles({ 'a.yaml': model('gemma', FOUR.slice(0, 2)) }), FILES, undefined],
  ];
  for (const [before, after, rules, want] of cases) {
    const risk = assessEdit(before, after, rules);
    assert.equal(risk.endpointLossPercentNeeded, want, risk.reasons.join('\n'));
    // That value lets it through; one less does not.
    if (want !== undefined) {
      assert.equal(assessEdit(before, after, { maxEndpointLoss: want / 100 }).reasons.length, 0);
      assert.equal(assessEdit(before, after, { maxEndpointLoss: (want - 1) / 100 }).reasons.length, 1);
    }
  }
});
