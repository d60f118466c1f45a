import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usage } from './bench-args.js';

const MODULE = new URL('./bench-args.js', import.meta.url).href;
/** A benchmark's first lines, run as a program (a file, as benchmarks run) with `args`. */
function run(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-args-'));
  const file = join(dir, 'bench.mjs');
  writeFileSync(
    file,
    `import { benchArgs, nonNegativeFlag, positiveFlag } from ${JSON.stringify(MODULE)};
const { values } = benchArgs({ options: { rate: { type: 'string', default: '8' }, keep: { type: 'string', default: '0' }, quick: { type: 'boolean', default: false } } });
console.log(JSON.stringify({ ...values, rate: positiveFlag(values, 'rate'), keep: nonNegativeFlag(values, 'keep') }));`,
  );
  try {
    const r = spawnSync(process.execPath, [file, ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('usage lists every flag with its default; booleans bare, repeatable ones said, an empty default left out', () => {
  const text = usage('dist/bench/x.js', {
    rate: { type: 'string', default: '12' },
    quick: { type: 'boolean', default: false },
    baseline: { type: 'string', multiple: true },
    skip: { type: 'string', default: '' },
  });
  assert.match(text, /^usage: node dist\/bench\/x\.js \[flags\]\n/);
  assert.match(text, /\n {2}--rate <value> {6}default: 12\n/, 'aligned under the longest flag');
  assert.match(text, /\n {2}--quick\n/);
  assert.match(text, /\n {2}--baseline <value> {2}repeatable\n/);
  assert.match(text, /\n {2}--skip <value>\n/);
});

test('a benchmark reads its flags; --help prints them and exits 0; an unknown flag, a missing value or a numeric flag that is not positive is one line and exit 2', () => {
  const ok = run('--rate', '20', '--quick');
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { rate: 20, keep: 0, quick: true });
  assert.deepEqual(JSON.parse(run().stdout), { rate: 8, keep: 0, quick: false }, 'the defaults (a count whose default is 0 taken as it is)');
  assert.equal(JSON.parse(run('--keep', '50').stdout).keep, 50);
  for (const bad of ['-1', 'x', '']) {
    const r = run(`--keep=${bad}`);
    assert.equal(r.status, 2, bad);
    assert.equal(r.stderr, `bench.mjs: --keep must be a number, 0 or more, not "${bad}". Run it with --help for its flags.\n`);
  }
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--rate <value> {2}default: 8/);
  const unknown = run('--rte', '20');
  assert.equal(unknown.status, 2);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^bench\.mjs: Unknown option '--rte'\. Run it with --help for its flags\.\n$/);
  const missing = run('--rate');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /Option '--rate <value>' argument missing/);
  // A numeric flag that is not a positive number is refused, not replaced by its default.
  for (const bad of ['0', '-3', 'fast']) {
    const r = run(`--rate=${bad}`);
    assert.equal(r.status, 2, bad);
    assert.equal(r.stderr, `bench.mjs: --rate must be a positive number, not "${bad}". Run it with --help for its flags.\n`);
  }
  assert.match(run('--rate', '-3').stderr, /^bench\.mjs: Option '--rate' argument is ambiguous\. Run it/, 'one period, not two');
  assert.doesNotMatch(unknown.stderr + missing.stderr, /\n\s+at /, 'no stack trace');
});
