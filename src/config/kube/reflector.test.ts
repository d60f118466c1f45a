import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeKubeApi, type FakeObject } from '../../../test/helpers/fake-kube-api.js';
import { until } from '../../../test/helpers/until.js';
import { createLogger } from '../../logger.js';
import { Backoff } from '../../backoff.js';
import { Reflector, type ReflectorOptions } from './reflector.js';
import { INFERENCE_OBJECTIVES, LEGACY_INFERENCE_OBJECTIVES, PODS, collectionPath, kindPlural } from './resource-types.js';

const api = new FakeKubeApi();
const log = createLogger(process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent');
before(() => api.start());
after(() => api.stop());

function pod(name: string, labels: Record<string, string> = { app: 'a' }, ip = '10.0.0.1'): FakeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, status: { podIP: ip } };
}

function reflector(extra: Partial<ReflectorOptions> = {}): { r: Reflector; changes: () => number } {
  let changes = 0;
  const r = new Reflector({
    client: api.client(),
    type: PODS,
    namespace: 'default',
    log,
    onChange: () => changes++,
    backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
    watchTimeoutSeconds: 30,
    ...extra,
  });
  return { r, changes: () => changes };
}

const names = (r: Reflector): string[] => [...r.items()].map((o) => o.metadata.name).sort();
const watchRequests = (): URLSearchParams[] => api.requests.filter((q) => q.url.includes('watch=true')).map((q) => new URL(q.url, 'http://x').searchParams);

test('lists, then follows adds, updates and deletes through the watch; list items get their kind back', async () => {
  const path = collectionPath(PODS, 'list-watch');
  api.put(path, pod('p1'));
  api.put(path, pod('p2'));
  const { r, changes } = reflector({ namespace: 'list-watch' });
  r.start();
  await r.whenSynced();
  assert.deepEqual(names(r), ['p1', 'p2']);
  assert.equal([...r.items()][0]!.kind, 'Pod');
  assert.equal([...r.items()][0]!.apiVersion, 'v1');
  await until(() => api.openWatches > 0, 'the watch to open');
  const base = changes();
  api.put(path, pod('p3'));
  api.put(path, pod('p1', { app: 'a' }, '10.0.0.9'));
  api.remove(path, 'p2');
  await until(() => names(r).join() === 'p1,p3' && [...r.items()].some((o) => (o.status as { podIP: string }).podIP === '10.0.0.9'), 'the three events');
  assert.equal(changes() - base, 3);
  await r.stop();
});

test('an update that changes nothing the view sees does not call onChange', async () => {
  const path = collectionPath(PODS, 'noop');
  api.put(path, pod('p1'));
  const { r, changes } = reflector({ namespace: 'noop', view: (o) => JSON.stringify(o.metadata.labels) });
  r.start();
  await r.whenSynced();
  await until(() => api.openWatches > 0, 'the watch');
  const base = changes();
  api.put(path, pod('p1', { app: 'a' }, '10.9.9.9')); // IP only: invisible to this view
  api.put(path, pod('p1', { app: 'b' })); // label: visible
  await until(() => [...r.items()].some((o) => o.metadata.labels && (o.metadata.labels as Record<string, string>).app === 'b'), 'the label change');
  assert.equal(changes() - base, 1);
  await r.stop();
});

test('a bookmark advances the resourceVersion the next watch starts from', async () => {
  const path = collectionPath(PODS, 'bookmark');
  api.put(path, pod('p1'));
  const { r } = reflector({ namespace: 'bookmark' });
  r.start();
  await r.whenSynced();
  await until(() => api.openWatches > 0, 'the watch');
  const listedAt = r.resourceVersion;
  api.put(collectionPath(PODS, 'elsewhere'), pod('x')); // moves the global version on, invisible to this watch
  api.bookmark();
  await until(() => r.stats.bookmarks === 1, 'the bookmark');
  assert.notEqual(r.resourceVersion, listedAt);
  assert.equal(r.resourceVersion, String(api.resourceVersion));
  api.endWatches();
  await until(() => watchRequests().some((q) => q.get('resourceVersion') === String(api.resourceVersion) && q.get('allowWatchBookmarks') === 'true'), 'a watch from the bookmark');
  assert.equal(r.stats.lists, 1, 'no new list was needed');
  await r.stop();
});

test('410 Gone after compaction lists again and catches up with what changed meanwhile', async () => {
  const path = collectionPath(PODS, 'gone');
  api.put(path, pod('p1'));
  const { r } = reflector({ namespace: 'gone' });
  r.start();
  await r.whenSynced();
  await until(() => api.openWatches > 0, 'the watch');
  await api.stop(); // the watch drops; while it is away, the history it knew is compacted
  api.put(path, pod('p2'));
  api.remove(path, 'p1');
  api.compact();
  await api.start();
  await until(() => r.stats.relists === 1 && names(r).join() === 'p2', 'a relist after 410');
  assert.equal(r.stats.lists, 2);
  await r.stop();
});

test('while the API server is away the last copy stays and reconnects back off; it resyncs when the server returns', async (t) => {
  const path = collectionPath(PODS, 'away');
  api.put(path, pod('p1'));
  const lines: string[] = [];
  const { r } = reflector({ namespace: 'away', backoff: { initialMs: 20, maxMs: 160, jitter: 0 }, log: createLogger('info', (l) => lines.push(l)) });
  t.after(() => r.stop());
  r.start();
  await r.whenSynced();
  await until(() => api.openWatches > 0, 'the watch');
  await api.stop();
  await until(() => r.stats.failures >= 4, 'four failed reconnects');
  // The open watch cut by the server going away, said in words (Node's own message is a bare "aborted").
  assert.match(lines.find((l) => l.includes('WARN')) ?? '', /WARN {2}pods in namespace away: the connection to the API server was cut during the watch \(aborted\); keeping the last copy/);
  assert.deepEqual(names(r), ['p1'], 'the last copy is kept');
  assert.ok(r.lastError, 'the error is reported');
  api.put(path, pod('p2'));
  await api.start();
  await until(() => names(r).join() === 'p1,p2' && r.lastError === undefined, 'the resync');
  await r.stop();
});

test('backoff doubles from the initial delay up to the cap, jittered, and starts over after reset', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next()), [100, 200, 400, 800, 1000, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
  const jittered = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.2 }, () => 0); // lowest factor
  assert.equal(jittered.next(), 80);
  const high = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.2 }, () => 0.999999);
  assert.equal(high.next(), 120);
});

test('large collections are listed in pages and swapped in at once', async () => {
  const path = collectionPath(PODS, 'pages');
  for (let i = 0; i < 5; i++) api.put(path, pod(`p${i}`));
  const { r } = reflector({ namespace: 'pages', pageSize: 2 });
  const before = api.requests.length;
  r.start();
  await r.whenSynced();
  assert.equal(r.size, 5);
  const lists = api.requests.slice(before).filter((q) => q.url.startsWith('/api/v1/namespaces/pages/pods?') && !q.url.includes('watch=true'));
  assert.equal(lists.length, 3);
  await r.stop();
});

test('label selectors: an object whose labels stop matching leaves the copy', async () => {
  const path = collectionPath(PODS, 'selector');
  api.put(path, pod('in', { app: 'a' }));
  api.put(path, pod('out', { app: 'b' }));
  const { r } = reflector({ namespace: 'selector', labelSelector: 'app=a' });
  r.start();
  await r.whenSynced();
  assert.deepEqual(names(r), ['in']);
  await until(() => api.openWatches > 0, 'the watch');
  api.put(path, pod('in', { app: 'b' }));
  api.put(path, pod('out', { app: 'a' }));
  await until(() => names(r).join() === 'out', 'the swap');
  await r.stop();
});

test('an optional resource whose CRD is missing counts as empty and synced, not failing; a required one that is forbidden does not', async (t) => {
  const objectives = collectionPath(INFERENCE_OBJECTIVES, 'optional');
  api.hide(objectives);
  const opt = reflector({ namespace: 'optional', type: INFERENCE_OBJECTIVES, optionalRetryMs: 50 });
  t.after(() => opt.r.stop());
  opt.r.start();
  await opt.r.whenSynced();
  assert.equal(opt.r.size, 0);
  assert.match(opt.r.lastError ?? '', /CRD .* not installed/);
  // A normal state (one of llm-d's and GIE's groups is missing in most clusters): unreadable, but not failing.
  assert.equal(opt.r.unreadable, true);
  await until(() => api.requests.filter((q) => q.url.startsWith(objectives)).length >= 3, 'two slow retries');
  assert.equal(opt.r.failingSince, undefined);
  assert.equal(opt.r.stats.failures, 0);
  // Installed later: picked up on the slow retry.
  api.hide(objectives, false);
  api.put(objectives, { apiVersion: INFERENCE_OBJECTIVES.apiVersion, kind: 'InferenceObjective', metadata: { name: 'o1', namespace: 'optional' }, spec: {} });
  await until(() => opt.r.size === 1, 'the objective after the CRD appears');
  await opt.r.stop();

  const forbidden = collectionPath(PODS, 'forbidden');
  api.forbid(forbidden);
  const req = reflector({ namespace: 'forbidden' });
  t.after(() => req.r.stop());
  req.r.start();
  await until(() => req.r.stats.failures >= 2, 'two forbidden answers');
  assert.equal(req.r.synced, false);
  assert.match(req.r.lastError ?? '', /403 Forbidden.*grant get, list and watch on pods/);
  assert.ok(req.r.failingSince !== undefined, 'a forbidden required list is failing');
  api.forbid(forbidden, false);
  await req.r.whenSynced();
  assert.equal(req.r.failingSince, undefined);
  await req.r.stop();

  // Across every namespace (--all-namespaces) a Role's grant does not count: the hint says a ClusterRole is needed.
  const everywhere = collectionPath(PODS, undefined);
  api.forbid(everywhere);
  const all = reflector({ namespace: undefined });
  t.after(() => all.r.stop());
  all.r.start();
  await until(() => all.r.stats.failures >= 1, 'a forbidden answer across namespaces');
  api.forbid(everywhere, false);
  assert.match(all.r.lastError ?? '', /403 Forbidden.*\(grant get, list and watch on pods in a ClusterRole with a ClusterRoleBinding, as --all-namespaces needs \(a Role grants one namespace only\); the \*-all-namespaces overlays have one; see docs\/kubernetes\.md#rbac\)$/);
  await all.r.stop();
});

test('kinds in the plural, as messages say them', () => {
  assert.deepEqual(['InferenceObjective', 'GatewayClass', 'HTTPRoute'].map(kindPlural), ['InferenceObjectives', 'GatewayClasses', 'HTTPRoutes']);
});

test("a watch is described with its resource's API group, so llm-d's and GIE's InferenceObjectives tell apart", () => {
  const describe = (type: ReflectorOptions['type'], namespace: string | undefined, labelSelector?: string): string => reflector({ type, namespace, ...(labelSelector ? { labelSelector } : {}) }).r.description;
  assert.equal(describe(INFERENCE_OBJECTIVES, 'llm'), 'inferenceobjectives.llm-d.ai in namespace llm');
  assert.equal(describe(LEGACY_INFERENCE_OBJECTIVES, 'llm'), 'inferenceobjectives.inference.networking.x-k8s.io in namespace llm');
  assert.equal(describe(PODS, 'llm', 'app=gemma'), 'pods in namespace llm (app=gemma)');
  assert.equal(describe(PODS, undefined), 'pods in all namespaces');
});

test('stop ends an open watch and a pending backoff promptly', async () => {
  const { r } = reflector({ namespace: 'stop' });
  r.start();
  await r.whenSynced();
  await until(() => api.openWatches > 0, 'the watch');
  const t0 = Date.now();
  await r.stop();
  assert.ok(Date.now() - t0 < 1000);
  const forbidden = collectionPath(PODS, 'stop-backoff');
  api.forbid(forbidden);
  const slow = reflector({ namespace: 'stop-backoff', backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
  slow.r.start();
  await until(() => slow.r.stats.failures === 1, 'the first failure');
  const t1 = Date.now();
  await slow.r.stop();
  assert.ok(Date.now() - t1 < 1000, 'a 60 s backoff does not hold stop');
});
