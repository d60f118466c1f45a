// `npm run build`: an empty dist/ (compiled tests of renamed files must not linger and run), the compiler, then
// the run bit on the CLI. tsc writes main.js afresh without it, and a link npx made on an earlier build
// would then fail with "Permission denied" (issue #11). npm sets the bit itself when it installs a tarball.
import { chmodSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
chmodSync('dist/src/cli/main.js', 0o755);
