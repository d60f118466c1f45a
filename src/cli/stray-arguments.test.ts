/** A configuration path given without `-f`, or several after it, is a usage error that says what to write. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, CommanderError } from 'commander';
import { refuseStrayArguments } from './stray-arguments.js';

/** Parses `args` for a command with `-f` (its action records the file); the usage error's message and exit code, or what the action got. */
function parse(...args: string[]): { error: string; exitCode: number } | { file: string | undefined } {
  let file: string | undefined;
  const errors: string[] = [];
  const program = new Command('infergate').exitOverride().configureOutput({ writeErr: (s) => errors.push(s), writeOut: () => undefined });
  const serve = program.command('serve').option('-f, --file <path>', 'config').exitOverride().configureOutput({ writeErr: (s) => errors.push(s) }).action((flags: { file?: string }) => {
    file = flags.file;
  });
  refuseStrayArguments(serve);
  try {
    program.parse(['serve', ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { error: errors.join(''), exitCode: e.exitCode };
  }
  return { file };
}

test('serve config.yaml says to give it with -f, exit 2 (commander said only "too many arguments")', () => {
  assert.deepEqual(parse('config.yaml'), { error: "error: unexpected argument 'config.yaml'; infergate serve reads its configuration from -f: infergate serve -f config.yaml\n", exitCode: 2 });
});

test('-f with several paths (a shell glob) says -f takes one file or directory', () => {
  const r = parse('-f', 'a.yaml', 'b.yaml');
  assert.ok('error' in r);
  assert.equal(r.exitCode, 2);
  assert.match(r.error, /^error: unexpected argument 'b\.yaml'; -f takes one path, a YAML file or a directory of \.yaml files/);
});

test('-f with one path runs the command', () => {
  assert.deepEqual(parse('-f', 'conf/'), { file: 'conf/' });
});

test('a command without -f keeps commander\'s own check', () => {
  const program = new Command('infergate').exitOverride().configureOutput({ writeErr: () => undefined });
  const sim = program.command('sim').option('--model <m>').exitOverride().configureOutput({ writeErr: () => undefined }).action(() => undefined);
  refuseStrayArguments(sim);
  assert.throws(() => program.parse(['sim', 'extra'], { from: 'user' }), (e: unknown) => e instanceof CommanderError && e.code === 'commander.excessArguments');
});
