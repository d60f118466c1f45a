/** Finds Debian's Chromium for browser tests (driven by playwright-core, which downloads no browser of its own). */
import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts the browser; `CHROMIUM_PATH` overrides. */
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The browser's path; throws naming the package to install when there is none. */
export function chromiumPath(): string {
  const env = process.env.CHROMIUM_PATH;
  if (env) {
    if (!existsSync(env)) throw new Error(`CHROMIUM_PATH=${env} does not exist`);
    return env;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `Chromium is not installed (looked for ${CANDIDATES.join(', ')}): the dashboard test drives a real headless browser. ` +
        'Install Debian\'s package: apt-get update && apt-get install -y chromium (npm test and .ci/run do it when they can: scripts/ensure-test-servers.sh), or set CHROMIUM_PATH.',
    );
  }
  return found;
}
