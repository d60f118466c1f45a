/**
 * The flags the docs list agree with the commands: every flag of every command (as `--help` prints it) is
 * named in that command's reference section, every flag a reference table's first column names exists, and
 * a default the table gives in backticks is the one the command applies. A flag added to a command, or a
 * default changed, otherwise leaves the reference behind silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, type Option } from 'commander';
import { registerBenchCommand } from '../src/cli/bench.js';
import { registerDemoCommand } from '../src/cli/demo.js';
import { registerExplainCommand } from '../src/cli/explain.js';
import { registerExtprocCommand } from '../src/cli/extproc.js';
import { registerKeysCommand } from '../src/cli/keys.js';
import { registerServeCommand } from '../src/cli/serve.js';
import { registerSimCommand } from '../src/cli/sim.js';
import { registerValidateCommand } from '../src/cli/validate.js';
import { formatDuration } from '../src/upstream/duration.js';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();

const program = new Command('infergate');
for (const register of [registerServeCommand, registerExtprocCommand, registerExplainCommand, registerValidateCommand, registerSimCommand, registerDemoCommand, registerBenchCommand, registerKeysCommand]) register(program);
const command = (path: string): Command => path.split(' ').reduce((c, name) => c.commands.find((s) => s.name() === name)!, program);

/** Where each command's flags are documented: a file, and the heading of its section (to the next one as deep), or the whole file. */
const REFERENCE: Record<string, [file: string, heading?: string]> = {
  serve: ['docs/configuration.md', '### `infergate serve`'],
  explain: ['docs/configuration.md', '### `infergate explain`'],
  validate: ['docs/configuration.md', '### `infergate validate`'],
  sim: ['docs/configuration.md', '### `infergate sim`'],
  bench: ['docs/configuration.md', '### `infergate bench`'],
  demo: ['docs/configuration.md', '### `infergate demo`'],
  extproc: ['docs/extproc.md'],
  'keys create': ['docs/tenancy.md'],
};

function section([file, heading]: [string, string?]): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  if (!heading) return text;
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${file} has no heading ${heading}`);
  const depth = /^#+/.exec(heading)![0].length;
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${depth}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
}

const longFlags = (cmd: Command): Option[] => cmd.options.filter((o) => o.long && o.long !== '--help');

test('every command has a reference section, and every one of its flags is named there', () => {
  const commands = program.commands.flatMap((c) => (c.commands.length ? c.commands.map((s) => `${c.name()} ${s.name()}`) : [c.name()]));
  assert.deepEqual(commands.filter((c) => !REFERENCE[c]), []);
  const missing: string[] = [];
  for (const [name, where] of Object.entries(REFERENCE)) {
    const text = section(where);
    // `-f, --file <path>` may be written by its short name.
    const named = (o: Option): boolean => text.includes(`\`${o.long}`) || (o.short !== undefined && text.includes(`\`${o.short}`));
    for (const o of longFlags(command(name))) if (!named(o)) missing.push(`${name} ${o.long} (${where.join(' ')})`);
  }
  assert.deepEqual(missing, []);
});

test("README's table of serve flags names every serve flag", () => {
  const text = section(['README.md', '### `serve` flags']);
  const named = (o: Option): boolean => new RegExp(`${o.long}(?![a-z0-9-])`).test(text) || (o.short !== undefined && text.includes(`\`${o.short}`));
  assert.deepEqual(longFlags(command('serve')).filter((o) => !named(o)).map((o) => o.long), []);
});

/** The rows of the flag tables in a section: the flags of the first cell, and the default cell. */
function flagRows(text: string): { flags: string[]; defaults: string }[] {
  const rows: { flags: string[]; defaults: string }[] = [];
  let defaultAt = -1;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      defaultAt = -1;
      continue;
    }
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
    if (defaultAt < 0) {
      defaultAt = /^flag$/i.test(cells[0] ?? '') ? cells.findIndex((c) => /^default$/i.test(c)) : -1;
      continue;
    }
    if (cells[0]!.startsWith('---')) continue;
    // The flag cell's own flags: `--a <x>`, `--b` (`--alias`); not those its prose mentions further on.
    const flags = [...cells[0]!.matchAll(/`(-\w, )?(--[a-z0-9-]+)[^`]*`/g)].map((m) => m[2]!);
    rows.push({ flags, defaults: cells[defaultAt] ?? '' });
  }
  return rows;
}

test("every flag a reference table lists exists on its command, and a default given in backticks is the command's", () => {
  const wrong: string[] = [];
  let checked = 0;
  for (const name of ['serve', 'explain', 'validate', 'sim', 'bench', 'demo']) {
    const cmd = command(name);
    for (const { flags, defaults } of flagRows(section(REFERENCE[name]!))) {
      const shown = [...defaults.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      for (const flag of flags) {
        const o = cmd.options.find((x) => x.long === flag);
        if (!o) {
          wrong.push(`${name}: ${flag} is in the table but not a flag`);
          continue;
        }
        const v: unknown = o.defaultValue;
        if ((typeof v !== 'number' && typeof v !== 'string') || shown.length === 0 || (typeof v === 'string' && v.startsWith('/'))) continue;
        checked++;
        const text = o.flags.includes('<duration>') && typeof v === 'number' ? formatDuration(v) : String(v);
        if (!shown.includes(text)) wrong.push(`${name}: ${flag} defaults to ${text}, the table says ${defaults}`);
      }
    }
  }
  assert.ok(checked > 30, `only ${checked} defaults checked: is the scan reading the tables?`);
  assert.deepEqual(wrong, []);
});
