/** vLLM's CORS flags as serve takes them: a JSON list as vLLM does, or a comma-separated one; origins checked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addCorsOptions, corsPolicyOrExit, type CorsFlags } from './cors-options.js';

function parse(args: string[]): CorsFlags {
  const cmd = addCorsOptions(new Command().exitOverride().configureOutput({ writeErr: () => undefined }));
  cmd.parse(args, { from: 'user' });
  return cmd.opts<CorsFlags>();
}

test("vLLM's JSON lists and comma-separated lists give the same policy; methods and headers default to *", () => {
  assert.deepEqual(corsPolicyOrExit(parse(['--allowed-origins', '["https://a.example","http://b.example:8080"]'])), { origins: ['https://a.example', 'http://b.example:8080'], methods: ['*'], headers: ['*'], credentials: false });
  assert.deepEqual(corsPolicyOrExit(parse(['--allowed-origins', 'https://a.example, http://b.example:8080', '--allowed-methods', 'POST', '--allow-credentials'])), { origins: ['https://a.example', 'http://b.example:8080'], methods: ['POST'], headers: ['*'], credentials: true });
  assert.deepEqual(corsPolicyOrExit(parse(['--allowed-origins', '["*"]'])), { origins: ['*'], methods: ['*'], headers: ['*'], credentials: false });
  assert.equal(corsPolicyOrExit(parse([])), undefined);
});

test('a value that is not a list of origins is a usage error naming the flag', () => {
  for (const bad of ['["https://a.example"', '[1]', 'https://a.example/path', 'a.example']) {
    assert.throws(() => parse(['--allowed-origins', bad]), /--allowed-origins/, bad);
  }
});
