// `npm run build`: an empty dist/ (compiled tests of renamed files must not linger and run), then the compiler.
// The command npm links is bin/infergate.js, tracked with its run bit, so nothing here needs to set one.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
