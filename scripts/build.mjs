// `npm run build`: an empty dist/ (compiled tests of renamed files must not linger and run), then the compiler.
// The command npm links is bin/infergate.js, tracked with its run bit. main.js gets the bit too: an npx link
// made before bin/ existed points at it, and tsc writes it afresh without one (issue #11).
import { chmodSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
chmodSync('dist/src/cli/main.js', 0o755);
