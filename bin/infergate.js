#!/usr/bin/env node
// The `infergate` command as npm links it. It lives outside dist/ and git keeps its run bit, so no way of
// building (npm run build, npx tsc, a fresh clone, an npm pack tarball) can leave the linked command without
// it, which made `npx infergate` fail with "Permission denied" (issue #11).
import '../dist/src/cli/main.js';
