/** Tests for LiveList: order, removal, iteration, and that a removed node keeps nothing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LiveList } from './live-list.js';

test('members in insertion order; removal from the front, middle and back', () => {
  const list = new LiveList<string>();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((v) => list.add(v));
  assert.deepEqual([...list], ['a', 'b', 'c', 'd']);
  assert.equal(list.size, 4);
  list.remove(b!);
  assert.deepEqual([...list], ['a', 'c', 'd']);
  list.remove(a!);
  list.remove(d!);
  assert.deepEqual([...list], ['c']);
  list.remove(c!);
  assert.deepEqual([...list], []);
  assert.equal(list.size, 0);
  list.add('e');
  assert.deepEqual([...list], ['e']);
});

test('remove is idempotent and a removed node holds nothing', () => {
  const list = new LiveList<object>();
  const x = list.add({});
  const y = list.add({});
  list.remove(x);
  list.remove(x);
  assert.equal(list.size, 1);
  assert.equal(x.value, undefined);
  assert.equal(x.prev, undefined);
  assert.equal(x.next, undefined);
  assert.equal(y.prev, undefined, 'its neighbour no longer points back at it');
});

test('the same value added twice is two members', () => {
  const list = new LiveList<number>();
  const one = list.add(7);
  list.add(7);
  list.remove(one);
  assert.deepEqual([...list], [7]);
});

test('iteration goes through the members as they were when it began, whatever changes meanwhile', () => {
  const list = new LiveList<number>();
  const nodes = [1, 2, 3, 4].map((v) => list.add(v));
  const seen: number[] = [];
  for (const v of list) {
    seen.push(v);
    if (v % 2 === 0) list.remove(nodes[v - 1]!);
    if (v === 4) list.add(5);
  }
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.deepEqual([...list], [1, 3, 5]);
  for (const v of list) if (v === 1) list.remove(nodes[2]!);
  assert.deepEqual(list.values(), [1, 5]);
});

test('find: the oldest member that matches, without a copy', () => {
  const list = new LiveList<{ n: number; ok: boolean }>();
  const a = list.add({ n: 1, ok: false });
  list.add({ n: 2, ok: true });
  list.add({ n: 3, ok: true });
  assert.equal(list.find((v) => v.ok)?.n, 2);
  list.remove(a);
  assert.equal(list.find((v) => v.n === 1), undefined);
});

/**
 * What the list is for, checked against V8 itself: members churned through a Set whose table a full collection
 * moved to the old generation survive every scavenge (the old generation grows by all of them); through a
 * LiveList they die young. The Set is the control: where this V8 does not show it, there is nothing to compare.
 */
test('churned members die young in a LiveList, where a Set keeps them past every scavenge', (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
  const oldSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
  /** Old-generation growth, in bytes, over 20,000 members passing through `add`/`remove` with 50 live at a time. */
  const churn = <N>(add: (m: object) => N, remove: (n: N) => void): number => {
    const live: N[] = [];
    for (let i = 0; i < 50; i++) live.push(add({ payload: new Array(64).fill(i) }));
    gc({ type: 'major' }); // the container's storage is now old, as it is on a gateway that has run a while
    const before = oldSpace();
    for (let i = 0; i < 20_000; i++) {
      live.push(add({ payload: new Array(64).fill(i) }));
      remove(live.shift()!);
      if (i % 2_000 === 0) gc({ type: 'minor' });
    }
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    return oldSpace() - before;
  };
  const set = new Set<object>();
  const setGrowth = churn((m) => (set.add(m), m), (m) => set.delete(m));
  const list = new LiveList<object>();
  const listGrowth = churn((m) => list.add(m), (n) => list.remove(n));
  // 20,000 members of about 600 bytes each: 12 MB if all were kept.
  if (setGrowth < 4_000_000) return t.skip(`this V8 frees what a Set churns (old generation +${setGrowth} bytes): nothing to compare`);
  assert.ok(listGrowth < 500_000, `LiveList: old generation +${listGrowth} bytes (Set: +${setGrowth})`);
});
