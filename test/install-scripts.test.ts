/**
 * npm 11 skips a dependency's install scripts unless the project's `allowScripts` names it, and ends `npm ci` with
 * warnings a new user cannot act on. Every package the lockfile marks as having install scripts must be decided
 * in package.json, so a dependency that gains one is reviewed when it is added, not found by a user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();

/** A lockfile entry's package name: the part after the last `node_modules/` of its path. */
function packageName(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

test('every dependency with install scripts is decided in package.json allowScripts', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
  const withScripts = Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && p.hasInstallScript === true)
    .map(([path]) => packageName(path));
  assert.ok(withScripts.includes('zeromq'), 'the lockfile marks zeromq (its prebuilt-addon check) as having an install script');
  const undecided = withScripts.filter((name) => typeof pkg.allowScripts?.[name] !== 'boolean');
  assert.deepEqual(undecided, [], `add these to package.json allowScripts (true to run their install scripts, false to skip them): ${undecided.join(', ')}`);
});
