/** Bounded polling for tests: wait until a condition holds, or fail saying what was awaited. */
import assert from 'node:assert/strict';

/** Polls `check` every 10 ms; fails the test after `ms` naming `what` it waited for. */
export async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`);
}
