import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashApiKey } from './api-key.js';
import { KeyFileError, parseKeyFile } from './key-file.js';
import { KeySet } from './key-set.js';

const H = hashApiKey('secret-1');

test('a keys file parses into entries that a presented key finds', () => {
  const text = `keys:\n  - name: team-a\n    keyHash: ${H}\n    models: ["llama*"]\n    requestsPerMinute: 10\n    tokensPerMinute: 1000\n    tokensPerDay: 5000\n    objective: critical\n`;
  const entries = parseKeyFile(text, 'keys.yaml');
  assert.equal(entries.length, 1);
  const set = new KeySet(entries);
  const e = set.lookup('secret-1');
  assert.equal(e?.tenant.name, 'team-a');
  assert.equal(e?.tenant.objective, 'critical');
  assert.deepEqual(e?.limits, { requestsPerMinute: 10, tokensPerMinute: 1000, tokensPerDay: 5000 });
  assert.equal(e?.models.allows('llama-3'), true);
  assert.equal(set.lookup('secret-2'), undefined);
  assert.deepEqual(set.tenants(), ['team-a']);
});

test('every problem of a keys file is reported, and a key in clear is refused', () => {
  const text = `keys:\n  - name: "bad name!"\n    keyHash: my-clear-key\n    models: []\n    requestsPerMinute: 0\n    priority: 1\n    objective: x\n    colour: red\n    allowAdminPaths: yes please\n`;
  assert.throws(() => parseKeyFile(text, 'k.yaml'), (e: unknown) => {
    assert.ok(e instanceof KeyFileError);
    for (const want of ['unknown field "colour"', '"name"', 'never stored in clear', '"models"', '"requestsPerMinute"', 'not both', '"allowAdminPaths" must be true or false']) assert.ok(e.message.includes(want), want);
    assert.ok(!e.message.includes('my-clear-key'.repeat(2)));
    return true;
  });
  assert.throws(() => parseKeyFile('keys: {', 'k.yaml'), KeyFileError);
  assert.throws(() => parseKeyFile('other: 1', 'k.yaml'), /"keys" list/);
  assert.deepEqual(parseKeyFile('', 'k.yaml'), []);
});

test('a limit or priority that is not a whole number says what it was given', () => {
  const entry = (field: string): string => `keys:\n  - name: a\n    keyHash: ${H}\n    models: ["*"]\n    ${field}\n`;
  const message = (field: string): string => {
    try {
      parseKeyFile(entry(field), 'k.yaml');
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail(`${field} is refused`);
  };
  assert.equal(message('requestsPerMinute: -5'), 'k.yaml: keys[0]: "requestsPerMinute" must be a positive integer (leave it out for no limit), got -5');
  assert.equal(message('tokensPerDay: 1.5'), 'k.yaml: keys[0]: "tokensPerDay" must be a positive integer (leave it out for no limit), got 1.5');
  assert.equal(message('tokensPerMinute: "600"'), 'k.yaml: keys[0]: "tokensPerMinute" must be a positive integer (leave it out for no limit), got the string "600": write the number without quotes');
  assert.equal(message('priority: high'), 'k.yaml: keys[0]: "priority" must be an integer, got "high"');
});

test("keys of one tenant share its counters, so their limits must agree (key rotation: the new key gets the old one's)", () => {
  const h2 = hashApiKey('secret-2');
  const h3 = hashApiKey('secret-3');
  const entry = (name: string, hash: string, limits: string): string => `  - name: ${name}\n    keyHash: ${hash}\n    models: ["*"]\n${limits}`;
  const same = `keys:\n${entry('team-a', H, '    requestsPerMinute: 10\n')}${entry('team-a', h2, '    requestsPerMinute: 10\n')}${entry('team-b', h3, '    requestsPerMinute: 99\n')}`;
  assert.equal(new KeySet(parseKeyFile(same, 'k.yaml')).size, 3);
  // Before, both were taken: team-a's limit was 10 or 20 depending on the key a client sent, on one count.
  const differ = `keys:\n${entry('team-a', H, '    requestsPerMinute: 10\n')}${entry('team-b', h3, '')}${entry('team-a', h2, '    requestsPerMinute: 20\n    tokensPerDay: 5\n')}`;
  assert.throws(
    () => parseKeyFile(differ, 'k.yaml'),
    (e: unknown) =>
      e instanceof KeyFileError &&
      e.message ===
        [
          'k.yaml: keys[2]: tenant team-a has requestsPerMinute 20 here and 10 in k.yaml: keys[0]; keys of one tenant share its counters, so give them the same limits',
          'k.yaml: keys[2]: tenant team-a has tokensPerDay 5 here and unset in k.yaml: keys[0]; keys of one tenant share its counters, so give them the same limits',
        ].join('\n'),
  );
});

test('a keyHash with upper-case hex digits finds its key; a bare digest is told it lacks the sha256: prefix', () => {
  const upper = `sha256:${H.slice('sha256:'.length).toUpperCase()}`;
  const set = new KeySet(parseKeyFile(`keys:\n  - name: team-a\n    keyHash: "${upper}"\n    models: ["*"]\n`, 'keys.yaml'));
  assert.equal(set.lookup('secret-1')?.tenant.name, 'team-a');
  // The same hash twice in different cases is one hash.
  assert.throws(() => parseKeyFile(`keys:\n  - name: a\n    keyHash: ${H}\n    models: ["*"]\n  - name: b\n    keyHash: "${upper}"\n    models: ["*"]\n`, 'k.yaml'), /the same keyHash appears twice/);
  const bare = H.slice('sha256:'.length);
  assert.throws(() => parseKeyFile(`keys:\n  - name: a\n    keyHash: ${bare}\n    models: ["*"]\n`, 'k.yaml'), /this one lacks the "sha256:" prefix/);
  assert.throws(() => parseKeyFile(`keys:\n  - name: a\n    keyHash: sha256:xyz\n    models: ["*"]\n`, 'k.yaml'), (e: unknown) => e instanceof KeyFileError && !e.message.includes('lacks'));
});
