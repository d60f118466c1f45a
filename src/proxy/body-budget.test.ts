/** BodyBudget: bodies past the limit wait, the oldest still reading always progresses, releases wake the waiting. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyBudget, SMALL_BODY_BYTES } from './body-budget.js';

const MiB = 1024 * 1024;
const settled = async (p: Promise<void> | undefined): Promise<boolean> => {
  if (!p) return true;
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('BodyBudget', () => {
  test('within the limit nothing waits; past it, small bodies still do not', () => {
    const b = new BodyBudget(4 * MiB);
    assert.equal(b.open().grow(1 * MiB), undefined);
    assert.equal(b.open().grow(3 * MiB), undefined);
    assert.ok(b.open().grow(1 * MiB), 'over the limit, a third body waits');
    assert.equal(b.open().grow(SMALL_BODY_BYTES), undefined, 'a small one passes');
    assert.equal(b.used, 5 * MiB + SMALL_BODY_BYTES);
  });

  test('a small body held whole counts at once, like a body read whole, and frees its bytes once', async () => {
    const b = new BodyBudget(SMALL_BODY_BYTES / 2);
    const release = b.hold(SMALL_BODY_BYTES);
    assert.equal(b.used, SMALL_BODY_BYTES);
    const wait = b.open().grow(1 * MiB);
    assert.equal(await settled(wait), false, 'held bytes past the limit stop even the oldest reading body');
    release();
    release();
    assert.equal(await settled(wait), true, 'the release wakes it');
    assert.equal(b.used, 1 * MiB);
  });

  test('past the limit a newer body waits until an older one is released', async () => {
    const b = new BodyBudget(4 * MiB);
    const first = b.open();
    first.grow(3 * MiB);
    const second = b.open();
    const wait = second.grow(2 * MiB);
    assert.ok(wait, 'the second body should wait');
    assert.equal(await settled(wait), false);
    assert.equal(b.waiting, 1);
    first.done();
    // first is no longer reading: second is now the oldest reading body, and what is held (3 MiB) is within the limit.
    assert.equal(await settled(wait), true);
    assert.equal(b.waiting, 0);
  });

  test('the oldest reading body grows past the limit: no deadlock among reading bodies', async () => {
    const b = new BodyBudget(4 * MiB);
    const oldest = b.open();
    const newer = b.open();
    assert.equal(oldest.grow(2 * MiB), undefined);
    assert.ok(newer.grow(3 * MiB), 'the newer body waits');
    assert.equal(oldest.grow(8 * MiB), undefined, 'the oldest goes on regardless');
  });

  test('bodies read whole and held past the limit stop even the oldest, until they are released', async () => {
    const b = new BodyBudget(4 * MiB);
    const held = b.open();
    held.grow(5 * MiB);
    held.done();
    const reading = b.open();
    const wait = reading.grow(1 * MiB);
    assert.ok(wait);
    assert.equal(await settled(wait), false);
    held.release();
    assert.equal(await settled(wait), true);
    assert.equal(b.used, 1 * MiB);
  });

  test('releasing a waiting body lets its reader go on, and frees its bytes once', async () => {
    const b = new BodyBudget(1 * MiB);
    b.open().grow(2 * MiB);
    const waiting = b.open();
    const wait = waiting.grow(2 * MiB);
    waiting.release();
    waiting.release();
    assert.equal(await settled(wait), true);
    assert.equal(b.used, 2 * MiB);
    assert.equal(waiting.grow(MiB), undefined, 'a released lease counts nothing more');
    assert.equal(b.used, 2 * MiB);
  });
});
