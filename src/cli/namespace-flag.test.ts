/** `--namespace` on every command that reads the Kubernetes API refuses what names no namespace. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, InvalidArgumentError } from 'commander';
import { registerExplainCommand } from './explain.js';
import { registerExtprocCommand } from './extproc.js';
import { registerServeCommand } from './serve.js';
import { registerValidateCommand } from './validate.js';
import { namespaceFlag } from './parse-flags.js';

test('namespaceFlag keeps a namespace name and refuses an empty one (read by the API server as every namespace) or one no namespace can have', () => {
  for (const ns of ['llm-d', 'default', 'a', '0ab', 'a'.repeat(63)]) assert.equal(namespaceFlag(ns), ns);
  const cases: [string, RegExp][] = [
    ['', /^must name a namespace, got ""; leave it out for the default .* or give --all-namespaces$/],
    [' ', /^must name a namespace, got ""/],
    ['LLM_D', /^must be a namespace name \(lowercase letters, digits and '-', at most 63 characters, .*\), got "LLM_D"$/],
    ['llm.d', /got "llm\.d"$/],
    ['-llm', /got "-llm"$/],
    ['a'.repeat(64), /at most 63 characters/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => namespaceFlag(bad), (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message), JSON.stringify(bad));
  }
});

test('serve, extproc, validate and explain refuse --namespace "" (NS unset in a manifest or script) instead of watching every namespace', () => {
  const program = new Command('infergate');
  for (const register of [registerServeCommand, registerExtprocCommand, registerValidateCommand, registerExplainCommand]) register(program);
  const checked: string[] = [];
  for (const cmd of program.commands) {
    const option = cmd.options.find((o) => o.long === '--namespace');
    if (!option) continue;
    checked.push(cmd.name());
    assert.ok(option.parseArg, `${cmd.name()} --namespace takes any value`);
    assert.throws(() => option.parseArg!('', undefined), InvalidArgumentError, `${cmd.name()} --namespace ''`);
    assert.equal(option.parseArg('llm-d', undefined), 'llm-d');
  }
  assert.deepEqual(checked, ['serve', 'extproc', 'validate', 'explain']);
});
