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

/**
 * `until` for an asynchronous check (an API server's status, an HTTP answer): polls every 50 ms; a check that
 * throws counts as not yet, and the last error is named if time runs out.
 */
export async function eventually(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: not within ${ms} ms${last ? ` (${(last as Error).message})` : ''}`);
}
