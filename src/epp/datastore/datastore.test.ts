/** Datastore: endpoints derived from snapshots, swapped at commit, with per-endpoint state kept across reloads. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inferencePool, pod } from '../../api/test-fixtures.js';
import { snapshot } from '../../config/test-fixtures.js';
import { Datastore } from './datastore.js';
import { Endpoint } from './endpoint.js';

const gemma = inferencePool('gemma').selects({ app: 'gemma' }).ports(8000, 8001);
const gemma0 = pod('gemma-0').labels({ app: 'gemma' }).ip('10.0.0.1').ready();
const gemma1 = pod('gemma-1').labels({ app: 'gemma' }).ip('10.0.0.2').ready();

function addresses(eps: Iterable<Endpoint>): string[] {
  return [...eps].map((e) => e.address);
}

describe('Datastore', () => {
  test('each selected pod x each target port is an endpoint; unusable pods are listed as excluded', () => {
    const ds = new Datastore();
    const { added, removed } = ds.apply(
      snapshot(gemma, gemma0, gemma1, pod('starting').labels({ app: 'gemma' }).ip('10.0.0.3').notReady(), pod('pending').labels({ app: 'gemma' }).ready(), pod('other').labels({ app: 'llama' }).ip('10.0.0.4').ready()),
    );
    const view = ds.pool('default/gemma');
    assert.ok(view);
    assert.equal(view.pool, gemma);
    assert.deepEqual(addresses(view.endpoints), ['10.0.0.1:8000', '10.0.0.1:8001', '10.0.0.2:8000', '10.0.0.2:8001']);
    assert.deepEqual(view.endpoints.map((e) => e.podKey), ['default/gemma-0', 'default/gemma-0', 'default/gemma-1', 'default/gemma-1']);
    assert.deepEqual(view.excluded.map((m) => [m.pod.meta.name, m.excluded]), [
      ['starting', 'pod is not Ready'],
      ['pending', 'pod has no status.podIP'],
    ]);
    assert.deepEqual(addresses(added), addresses(view.endpoints));
    assert.deepEqual(removed, []);
    assert.deepEqual(addresses(ds.endpoints()), addresses(view.endpoints));
    assert.equal(ds.endpoint('10.0.0.2:8001'), view.endpoints[3]);
    assert.equal(ds.endpoint('10.0.0.4:8000'), undefined);
  });

  test('a prepared snapshot is invisible until commit', () => {
    const ds = new Datastore();
    ds.apply(snapshot(gemma, gemma0));
    const before = ds.pool('default/gemma');
    const llama = inferencePool('llama').selects({ app: 'llama' });
    const prepared = ds.prepare(snapshot(gemma, gemma0, gemma1, llama, pod('llama-0').labels({ app: 'llama' }).ip('10.0.1.1').ready()));
    assert.deepEqual(addresses(prepared.added), ['10.0.0.2:8000', '10.0.0.2:8001', '10.0.1.1:8000']);
    assert.equal(ds.pool('default/llama'), undefined, 'new pool visible before commit');
    assert.equal(ds.pool('default/gemma'), before, 'old view replaced before commit');
    assert.equal(ds.endpoint('10.0.1.1:8000'), undefined);
    prepared.commit();
    assert.ok(ds.pool('default/llama'));
    assert.deepEqual(addresses(ds.pool('default/gemma')!.endpoints), ['10.0.0.1:8000', '10.0.0.1:8001', '10.0.0.2:8000', '10.0.0.2:8001']);
    assert.deepEqual([...ds.pools()].map((v) => v.key), ['default/gemma', 'default/llama']);
  });

  test('endpoints whose address persists keep their object, in-flight count and models', () => {
    const ds = new Datastore();
    ds.apply(snapshot(gemma, gemma0, gemma1));
    const kept = ds.endpoint('10.0.0.1:8000')!;
    kept.inFlight = 3;
    kept.setModels([{ id: 'gemma', parent: null }], 1);
    const relabelled = pod('gemma-0').labels({ app: 'gemma', version: 'v2' }).ip('10.0.0.1').ready();
    const { added, removed } = ds.apply(snapshot(gemma, relabelled, pod('gemma-2').labels({ app: 'gemma' }).ip('10.0.0.5').ready()));
    const after = ds.endpoint('10.0.0.1:8000');
    assert.equal(after, kept);
    assert.equal(after?.inFlight, 3);
    assert.equal(after?.serves('gemma'), true);
    assert.equal(after?.pod, relabelled, 'the endpoint carries the latest pod object');
    assert.deepEqual(addresses(added), ['10.0.0.5:8000', '10.0.0.5:8001']);
    assert.deepEqual(addresses(removed), ['10.0.0.2:8000', '10.0.0.2:8001']);
    assert.equal(ds.endpoint('10.0.0.2:8000'), undefined);
  });

  test('dropping a target port removes its endpoints only', () => {
    const ds = new Datastore();
    ds.apply(snapshot(gemma, gemma0));
    const { added, removed } = ds.apply(snapshot(inferencePool('gemma').selects({ app: 'gemma' }).ports(8000), gemma0));
    assert.deepEqual(added, []);
    assert.deepEqual(addresses(removed), ['10.0.0.1:8001']);
  });

  test('a pod that turns not-Ready leaves the endpoints and joins the excluded', () => {
    const ds = new Datastore();
    ds.apply(snapshot(gemma, gemma0, gemma1));
    const { removed } = ds.apply(snapshot(gemma, gemma0, pod('gemma-1').labels({ app: 'gemma' }).ip('10.0.0.2').notReady()));
    assert.deepEqual(addresses(removed), ['10.0.0.2:8000', '10.0.0.2:8001']);
    assert.deepEqual(ds.pool('default/gemma')!.excluded.map((m) => m.excluded), ['pod is not Ready']);
  });

  test('one pod in two pools on the same port is one endpoint', () => {
    const ds = new Datastore();
    const both = pod('shared').labels({ app: 'gemma', tier: 'gold' }).ip('10.0.0.7').ready();
    const { added } = ds.apply(snapshot(inferencePool('gemma').selects({ app: 'gemma' }), inferencePool('gold').selects({ tier: 'gold' }), both));
    assert.deepEqual(addresses(added), ['10.0.0.7:8000']);
    assert.equal(ds.pool('default/gemma')!.endpoints[0], ds.pool('default/gold')!.endpoints[0]);
  });

  test('IPv6 pod addresses are bracketed', () => {
    const ds = new Datastore();
    ds.apply(snapshot(gemma, pod('v6').labels({ app: 'gemma' }).ip('fd00::1').ready()));
    const eps = ds.pool('default/gemma')!.endpoints;
    assert.deepEqual(addresses(eps), ['[fd00::1]:8000', '[fd00::1]:8001']);
    assert.equal(eps[0]!.origin, 'http://[fd00::1]:8000');
    assert.equal(eps[0]!.ip, 'fd00::1');
    assert.equal(eps[0]!.port, 8000);
  });

  test('the catalog is cached until invalidated, and rebuilt at commit', () => {
    const ds = new Datastore();
    ds.apply(snapshot(gemma, gemma0));
    const empty = ds.catalog();
    assert.equal(empty.models.size, 0);
    assert.equal(ds.catalog(), empty, 'cached');
    ds.endpoint('10.0.0.1:8000')!.setModels([{ id: 'gemma', parent: null }], 1);
    assert.equal(ds.catalog(), empty, 'still cached until invalidated');
    ds.invalidateCatalog();
    assert.deepEqual([...ds.catalog().models.keys()], ['gemma']);
    ds.apply(snapshot(gemma));
    assert.equal(ds.catalog().models.size, 0, 'the endpoint left with the pod');
  });
});

describe('Endpoint', () => {
  const ep = (): Endpoint => new Endpoint(pod('a').ip('10.0.0.1').ready(), '10.0.0.1', 8000);

  test('connection-failure backoff doubles from 1 s and is capped at 30 s', () => {
    const e = ep();
    const now = 1_000_000;
    const holds: number[] = [];
    for (let i = 0; i < 8; i++) {
      e.markConnectFailure(now);
      holds.push(e.backoffUntil - now);
    }
    assert.deepEqual(holds, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    for (let i = 0; i < 2000; i++) e.markConnectFailure(now);
    assert.equal(e.backoffUntil - now, 30000, 'no overflow after many failures');
    assert.equal(e.consecutiveFailures, 2008);
  });

  test('a custom base, the backoff boundary, and recovery', () => {
    const e = ep();
    e.markConnectFailure(0, 100);
    e.markConnectFailure(0, 100);
    assert.equal(e.backoffUntil, 200);
    assert.equal(e.inBackoff(199), true);
    assert.equal(e.inBackoff(200), false);
    e.markReachable();
    assert.equal(e.consecutiveFailures, 0);
    assert.equal(e.inBackoff(0), false);
    e.markConnectFailure(0, 100);
    assert.equal(e.backoffUntil, 100, 'starts over after recovery');
  });

  test('serves() is undefined until the endpoint has listed its models', () => {
    const e = ep();
    assert.equal(e.serves('m'), undefined);
    e.modelsError = 'boom';
    e.setModels([{ id: 'm', parent: null }], 42);
    assert.equal(e.serves('m'), true);
    assert.equal(e.serves('n'), false);
    assert.equal(e.modelsError, undefined);
    assert.equal(e.modelsFetchedAt, 42);
  });
});

test('endpoints carry their pool\'s appProtocol; a pool that changes it gets new endpoints, and the old ones leave', () => {
  const ds = new Datastore();
  const p0 = gemma0;
  const first = ds.apply(snapshot(inferencePool('pool').selects({ app: 'gemma' }).ports(8000), p0));
  const before = ds.endpoint('10.0.0.1:8000')!;
  assert.equal(before.h2c, false);
  assert.deepEqual(first.added, [before]);
  const next = ds.apply(snapshot(inferencePool('pool').selects({ app: 'gemma' }).ports(8000).h2c(), p0));
  const after = ds.endpoint('10.0.0.1:8000')!;
  assert.equal(after.h2c, true);
  assert.notEqual(after, before);
  assert.deepEqual(next.added, [after]);
  assert.deepEqual(next.removed, [before], 'the HTTP/1.1 endpoint leaves, so its connections are closed');
  const same = ds.apply(snapshot(inferencePool('pool').selects({ app: 'gemma' }).ports(8000).h2c(), p0));
  assert.equal(ds.endpoint('10.0.0.1:8000'), after, 'unchanged protocol: the same object');
  assert.deepEqual([same.added, same.removed], [[], []]);
});
